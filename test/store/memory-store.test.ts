import { MemoryStore } from '../../src/store/memory-store.js';
import { describeStore } from './store-conformance.js';

describeStore('memory', async () => {
  let store = new MemoryStore();
  return {
    get store() {
      return store;
    },
    reset: async () => {
      store = new MemoryStore();
    },
    close: async () => {},
  };
});
