/**
 * Connection limits: at most N open subscriber connections per process and per client IP, and at
 * most M connection attempts per IP per second. One counter map; no timer per connection.
 *
 * An admitted connection holds a ticket, released exactly once: the transports bind it to the
 * request's close before they await anything, so no path (an answer, a refused upgrade, a
 * client hanging up mid-check) can keep a slot.
 */

/** Why a connection was refused. */
export type LimitRefusal = 'process' | 'ip' | 'rate';

/** Options of the limiter (each documented with its env name in config.ts). */
export interface ConnectionLimitOptions {
  maxConnections: number;
  maxConnectionsPerIp: number;
  connectRatePerIp: number;
}

/** One admitted connection's slot. */
export interface AdmissionTicket {
  readonly ip: string;
  /** True once the slot was given back. */
  readonly released: boolean;
  /** Gives the slot back; every later call does nothing. */
  release(): void;
}

/**
 * A class, not an object literal with a getter and a closure: one lives as long as its
 * connection, and the literal took about 280 bytes more of each idle connection's heap.
 */
class Ticket implements AdmissionTicket {
  released = false;

  constructor(
    readonly ip: string,
    private readonly giveBack: (ip: string) => void,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    this.giveBack(this.ip);
  }
}

/** Admits connections. */
export interface ConnectionLimiter {
  /** Counts an attempt; a ticket when admitted, else why not. */
  admit(ip: string, now?: number): AdmissionTicket | LimitRefusal;
  /** Slots held now, in all. */
  readonly open: number;
  /** Slots held now by `ip`. */
  openFrom(ip: string): number;
}

/** Creates a limiter. */
export function createConnectionLimiter(options: ConnectionLimitOptions): ConnectionLimiter {
  const openByIp = new Map<string, number>();
  const attempts = new Map<string, { second: number; count: number }>();
  let open = 0;

  function release(ip: string): void {
    const fromIp = openByIp.get(ip) ?? 0;
    if (fromIp <= 1) openByIp.delete(ip);
    else openByIp.set(ip, fromIp - 1);
    open = Math.max(0, open - 1);
  }

  return {
    admit(ip, now = Date.now()) {
      const second = Math.floor(now / 1000);
      const window = attempts.get(ip);
      if (!window || window.second !== second) {
        // Forget other IPs' old windows now and then so the map stays small.
        if (attempts.size > 10_000)
          for (const [key, value] of attempts) if (value.second !== second) attempts.delete(key);
        attempts.set(ip, { second, count: 1 });
      } else if (++window.count > options.connectRatePerIp) return 'rate';
      if (open >= options.maxConnections) return 'process';
      const fromIp = openByIp.get(ip) ?? 0;
      if (fromIp >= options.maxConnectionsPerIp) return 'ip';
      openByIp.set(ip, fromIp + 1);
      open++;
      return new Ticket(ip, release);
    },
    get open() {
      return open;
    },
    openFrom(ip) {
      return openByIp.get(ip) ?? 0;
    },
  };
}
