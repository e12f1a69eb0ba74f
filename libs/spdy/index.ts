/**
 * libs/spdy: the SPDY/3.1 frame layer (constants, dictionary, header blocks, frame builders and
 * a frame reader) and the client session shared by the port-forward server, kubectl's port-forward client and the
 * agent's exec client. The server session stays with the API server.
 */
export {
  controlBit,
  controlFrame,
  dataFrame,
  decodeHeaders,
  deliverDataFrame,
  encodeHeaders,
  flagFin,
  frameHeaderBytes,
  isControlFrame,
  SpdyFrameReader,
  spdyDictionary,
  spdyVersion,
  streamIdAt,
  synStreamFrame,
  synStreamPrefixBytes,
  syncFlushed,
  typeGoAway,
  typePing,
  typeRstStream,
  typeSynReply,
  typeSynStream,
} from "./frames.ts";
export type { SpdyDataHandlers } from "./frames.ts";
export type { SpdyClientHandlers } from "./client.ts";
export { clientFrameBytesMax, SpdyClientSession } from "./client.ts";
