import { describe, expect, it } from "vitest";
import { SpdyServerSession } from "../../apiserver/streaming/spdy.ts";
import { parsePortPairs } from "./port-forward.ts";
import { SpdyClientSession } from "../../../libs/spdy/index.ts";

describe("port-forward", () => {
  it("parses port pairs as kubectl does", () => {
    expect(parsePortPairs(["8080:80", "9090", ":http"])).toEqual([
      { local: 8080, remote: "80" },
      { local: 9090, remote: "9090" },
      { local: 0, remote: "http" },
    ]);
    expect(() => parsePortPairs(["x:80"])).toThrow("Error parsing local port 'x'");
    expect(() => parsePortPairs([])).toThrow("TYPE/NAME and list of ports are required for port-forward");
  });

  it("speaks SPDY to the API server's session: headers, data both ways, FIN", async () => {
    const opened: Array<[number, string]> = [];
    const toServer: Buffer[] = [];
    const ended: number[] = [];
    const fromServer: Array<[number, string]> = [];
    let clientEnded = -1;
    // The two sessions talk through these queued writes, as over one connection.
    let server: SpdyServerSession | undefined = undefined;
    const client = new SpdyClientSession((bytes) => server?.received(bytes), {
      onData: (streamId, data) => fromServer.push([streamId, data.toString("utf8")]),
      onStreamEnd: (streamId) => (clientEnded = streamId),
      onClose: () => undefined,
    });
    server = new SpdyServerSession(
      { write: (bytes) => client.received(bytes), close: () => undefined },
      {
        onStream: (streamId, headers) => opened.push([streamId, `${headers.get("streamtype") ?? ""} ${headers.get("port") ?? ""} ${headers.get("requestid") ?? ""}`]),
        onData: (_streamId, data) => toServer.push(data),
        onStreamEnd: (streamId) => ended.push(streamId),
      },
    );
    const errorStream = client.open(new Map([["streamtype", "error"], ["port", "80"], ["requestid", "0"]]));
    const dataStream = client.open(new Map([["streamtype", "data"], ["port", "80"], ["requestid", "0"]]));
    client.send(dataStream, Buffer.from("GET / HTTP/1.0\r\n\r\n"));
    client.send(dataStream, Buffer.alloc(0), true);
    await expect.poll(() => ended).toEqual([dataStream]);
    expect([errorStream, dataStream]).toEqual([1, 3]);
    expect(opened).toEqual([
      [1, "error 80 0"],
      [3, "data 80 0"],
    ]);
    expect(Buffer.concat(toServer).toString("utf8")).toBe("GET / HTTP/1.0\r\n\r\n");
    server.send(dataStream, Buffer.from("HTTP/1.0 200 OK\r\n"), true);
    expect(fromServer).toEqual([[3, "HTTP/1.0 200 OK\r\n"]]);
    expect(clientEnded).toBe(3);
    client.close();
    server.close();
  });
});
