import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a real server, for the failures a network has and a
 * clean server stop does not: `blackhole()` keeps every socket open but stops passing bytes
 * either way (a primary gone without closing its sockets, a dropped NAT entry), and new
 * connections are accepted and then hear nothing; `restore()` passes bytes again (what was
 * held back is dropped, as a real black hole would); `cut()` resets every connection.
 */
export interface TcpProxy {
  port: number;
  /** `postgresql://…` URL with the host and port replaced by the proxy's. */
  through(url: string): string;
  blackhole(): void;
  restore(): void;
  /** Destroys every open connection (both sides). */
  cut(): void;
  /** How many client connections are open through the proxy now. */
  openConnections(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let silent = false;
  const pairs = new Set<{ client: net.Socket; server: net.Socket }>();
  const proxy = net.createServer((client) => {
    const server = net.connect(targetPort, targetHost);
    const pair = { client, server };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on('error', end).on('close', end);
    server.on('error', end).on('close', end);
    // Bytes pass only while the proxy is not silent; in a black hole they are swallowed.
    client.on('data', (chunk) => {
      if (!silent) server.write(chunk);
    });
    server.on('data', (chunk) => {
      if (!silent) client.write(chunk);
    });
  });
  await new Promise<void>((resolve, reject) => {
    proxy.once('error', reject);
    proxy.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (proxy.address() as net.AddressInfo).port;
  const cut = () => {
    for (const { client, server } of pairs) {
      client.destroy();
      server.destroy();
    }
    pairs.clear();
  };
  return {
    port,
    through(url) {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    blackhole() {
      silent = true;
    },
    restore() {
      silent = false;
    },
    cut,
    openConnections: () => pairs.size,
    async close() {
      cut();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
