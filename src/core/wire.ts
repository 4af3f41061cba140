// The wire format's constants that validation needs without the addon loaded; native.ts checks
// them against the addon's own at load time.

/** Wire-format v1 header length, bytes: the smallest datagram a sender may ask for. */
export const HEADER_LENGTH = 32;
