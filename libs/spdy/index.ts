/**
 * libs/spdy: the SPDY/3.1 frame layer (constants, dictionary, header blocks, frame builders and
 * a frame reader) shared by the port-forward server, kubectl's port-forward client and the
 * agent's exec client. Sessions stay with their services.
 */
export {
  controlBit,
  controlFrame,
  dataFrame,
  decodeHeaders,
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
