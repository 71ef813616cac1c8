// A tolerant multipart/form-data reader. slack-go closes its multipart writer twice, so its upload
// bodies end with the closing delimiter repeated; undici's strict parser rejects them, Slack does not.

export interface Part {
  name: string;
  filename?: string;
  type?: string;
  data: Uint8Array;
}

export function boundaryOf(contentType: string): string | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

export function parseMultipart(body: Uint8Array, contentType: string): Part[] | undefined {
  const boundary = boundaryOf(contentType);
  if (!boundary) return undefined;
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delim = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = buf.indexOf(delim);
  if (pos < 0) return undefined;
  for (;;) {
    pos += delim.length;
    // "--" after a delimiter closes the body.
    if (buf[pos] === 0x2d && buf[pos + 1] === 0x2d) break;
    const headerStart = buf.indexOf("\r\n", pos) + 2;
    const headerEnd = buf.indexOf("\r\n\r\n", headerStart);
    if (headerStart < 2 || headerEnd < 0) break;
    const next = buf.indexOf(Buffer.concat([Buffer.from("\r\n"), delim]), headerEnd + 4);
    if (next < 0) break;
    const headers = buf.subarray(headerStart, headerEnd).toString("utf8");
    const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? "";
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1] ?? "";
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    const type = /content-type:\s*([^\r\n]*)/i.exec(headers)?.[1]?.trim();
    const part: Part = { name, data: new Uint8Array(buf.subarray(headerEnd + 4, next)) };
    if (filename !== undefined) part.filename = filename;
    if (type) part.type = type;
    parts.push(part);
    pos = next + 2;
  }
  return parts;
}
