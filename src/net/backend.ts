// The one interface between a network device (virtio-net) and whatever carries its Ethernet frames: the
// user-mode NAT stack (src/net/user.ts), a TCP socket to another wasmpc (src/node/net-socket.ts) or a host tap
// interface. Host-neutral: a browser relay can implement it too. Frames are whole Ethernet frames (destination
// MAC first, no preamble or FCS).

export interface NetBackend {
  /** A frame the guest transmitted. The backend copies what it keeps; the caller may reuse `frame`. */
  send(frame: Uint8Array): void;
  /**
   * Where frames for the guest go. One receiver; a later call replaces it. The receiver takes ownership of the
   * frame and applies its own back-pressure (it may drop frames when the guest has no buffers).
   */
  onReceive(cb: (frame: Uint8Array) => void): void;
  /** Release sockets and timers; no frame is delivered afterwards. */
  close(): Promise<void>;
}

/** The largest Ethernet frame carried: 1500-byte MTU, 14-byte header and a VLAN tag (IEEE 802.1Q). */
export const MAX_FRAME = 1518;
/** The smallest frame worth looking at: a bare Ethernet header. */
export const MIN_FRAME = 14;
