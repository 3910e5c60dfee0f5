// XML-RPC (the transport of SAMP's Web Profile): calls of strings, lists and maps, answered by
// a value or a fault. Only what SAMP uses: strings, arrays, structs (ints and booleans are read).

function encode(value, doc) {
  const wrap = doc.createElement("value");
  if (Array.isArray(value)) {
    const data = doc.createElement("data");
    for (const item of value) data.append(encode(item, doc));
    const array = doc.createElement("array");
    array.append(data);
    wrap.append(array);
  } else if (value !== null && typeof value === "object") {
    const struct = doc.createElement("struct");
    for (const [key, item] of Object.entries(value)) {
      const member = doc.createElement("member");
      const name = doc.createElement("name");
      name.textContent = key;
      member.append(name, encode(item, doc));
      struct.append(member);
    }
    wrap.append(struct);
  } else {
    const string = doc.createElement("string");
    string.textContent = value === null || value === undefined ? "" : String(value);
    wrap.append(string);
  }
  return wrap;
}

export function methodCall(method, params) {
  const doc = document.implementation.createDocument(null, "methodCall", null);
  const name = doc.createElement("methodName");
  name.textContent = method;
  const list = doc.createElement("params");
  for (const value of params) {
    const param = doc.createElement("param");
    param.append(encode(value, doc));
    list.append(param);
  }
  doc.documentElement.append(name, list);
  return `<?xml version="1.0"?>\n${new XMLSerializer().serializeToString(doc)}`;
}

function child(node, name) {
  return [...node.children].find((c) => c.localName === name);
}

export function decode(valueNode) {
  const typed = valueNode.firstElementChild;
  if (!typed) return valueNode.textContent; // a bare <value>text</value> is a string
  switch (typed.localName) {
    case "array":
      return [...child(typed, "data").children].filter((c) => c.localName === "value").map(decode);
    case "struct":
      return Object.fromEntries(
        [...typed.children].filter((m) => m.localName === "member").map((m) => [child(m, "name").textContent, decode(child(m, "value"))]),
      );
    case "int":
    case "i4":
    case "double":
      return Number(typed.textContent);
    case "boolean":
      return typed.textContent.trim() === "1";
    case "nil":
      return null;
    default:
      return typed.textContent;
  }
}

export class XmlRpcFault extends Error {}

/** The value of a methodResponse, or an XmlRpcFault with the fault's string. */
export function readResponse(text) {
  const doc = new DOMParser().parseFromString(text, "application/xml");
  if (doc.getElementsByTagName("parsererror").length) throw new XmlRpcFault("the hub's answer is not XML-RPC");
  const fault = doc.getElementsByTagName("fault")[0];
  if (fault) {
    const detail = decode(child(fault, "value"));
    throw new XmlRpcFault(detail?.faultString || "the hub refused the call");
  }
  const value = doc.querySelector("params > param > value");
  return value ? decode(value) : null;
}
