// The one interface between a network device (virtio-net) and whatever carries its Ethernet frames: the
// user-mode NAT stack (src/net/user.ts), a TCP socket to another wasmpc (src/node/net-socket.ts) or a host tap
// interface. Host-neutral: a browser relay can implement it too. Frames are whole Ethernet frames (destination
// MAC first, no preamble or FCS).

/**
 * What a backend can say about a frame for the guest that a NIC with receive offloads passes on to its driver
 * (virtio-net's header, §5.1.6.4): the guest then skips the checksum check, or takes one large TCP segment
 * where it would otherwise process a run of MTU-sized ones.
 */
export interface RxOffload {
  /** The frame's IPv4 and TCP/UDP checksums are complete and correct. */
  csumValid: boolean;
  /** The frame is one TCP/IPv4 segment larger than the MTU, made of segments of this many bytes (GSO). */
  tcpMss?: number;
}

export interface NetBackend {
  /** A frame the guest transmitted. The backend copies what it keeps; the caller may reuse `frame`. */
  send(frame: Uint8Array): void;
  /**
   * Where frames for the guest go. One receiver; a later call replaces it. The receiver takes ownership of the
   * frame and applies its own back-pressure (it may drop frames when the guest has no buffers).
   */
  onReceive(cb: (frame: Uint8Array, offload?: RxOffload) => void): void;
  /**
   * Optional: the device's driver takes TCP segments up to a 64 KiB IP datagram (marked with RxOffload.tcpMss)
   * from now on, or no longer (false, also after a reset). A backend that cannot make them ignores it.
   */
  setLargeReceive?(on: boolean): void;
  /** Release sockets and timers; no frame is delivered afterwards. */
  close(): Promise<void>;
}

/** The largest Ethernet frame carried: 1500-byte MTU, 14-byte header and a VLAN tag (IEEE 802.1Q). */
export const MAX_FRAME = 1518;
/** The smallest frame worth looking at: a bare Ethernet header. */
export const MIN_FRAME = 14;
