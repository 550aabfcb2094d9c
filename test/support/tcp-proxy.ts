import net from 'node:net';

/**
 * A loopback TCP proxy in front of a real server, to cut and restore the network path: an outage
 * that the service must survive, without touching the server itself.
 */
export class TcpProxy {
  private readonly sockets = new Set<net.Socket>();
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private server: net.Server | null = null;
  private stalled = false;
  port = 0;
  /** sees every byte a client sends the server, e.g. to count the queries an app makes */
  onClientData: ((client: net.Socket, chunk: Buffer) => void) | null = null;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<number> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      const pair: [net.Socket, net.Socket] = [client, upstream];
      this.sockets.add(client);
      this.sockets.add(upstream);
      this.pairs.add(pair);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
        this.pairs.delete(pair);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.on('data', (chunk: Buffer) => this.onClientData?.(client, chunk));
      if (!this.stalled) {
        client.pipe(upstream);
        upstream.pipe(client);
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Closes every connection and stops listening: new connections are refused. */
  async cut(): Promise<void> {
    this.stalled = false;
    for (const socket of this.sockets) {
      socket.destroy();
    }
    this.sockets.clear();
    this.pairs.clear();
    const server = this.server;
    this.server = null;
    if (server) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /**
   * A server that stops answering without closing anything: every connection stays open (new
   * ones are accepted) and nothing is forwarded either way. `unstall()` ends it.
   */
  stall(): void {
    this.stalled = true;
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
    }
  }

  /** Drops the stalled connections (what they carried is lost) and forwards new ones again. */
  unstall(): void {
    this.stalled = false;
    for (const socket of this.sockets) {
      socket.destroy();
    }
  }

  async restore(): Promise<void> {
    await this.start(this.port);
  }

  stop(): Promise<void> {
    return this.cut();
  }
}
