import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { describeStore } from './store-conformance.js';

describeStore('memory', async (now) => {
  let store = new MemoryStore({ now });
  return {
    get store() {
      return store;
    },
    reset: async () => {
      store = new MemoryStore({ now });
    },
    close: async () => {},
  };
});
