// Small DOM and browser helpers: element look-up and creation, local storage that may be
// disabled, sleep, UUIDs.

/** The first element with `data-testid=id` (under `root`, default the document). */
export function byTestId(id, root) {
  return (root || document).querySelector('[data-testid="' + id + '"]');
}

/** A new element: `props` are attributes (`text` sets textContent), then children. */
export function el(tag, props, children) {
  var node = document.createElement(tag);
  Object.keys(props || {}).forEach(function (name) {
    var value = props[name];
    if (value === null || value === undefined || value === false) return;
    if (name === "text") node.textContent = value;
    else if (name === "className") node.className = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  });
  (children || []).forEach(function (child) {
    if (child === null || child === undefined) return;
    node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  });
  return node;
}

export function readLocal(key) {
  try {
    return localStorage.getItem(key);
  } catch (error) {
    return null;
  }
}

export function writeLocal(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch (error) {
    // Storage disabled (private mode, policy): the choice lasts until the tab closes.
  }
}

export function sleep(ms) {
  return new Promise(function (resolve) {
    setTimeout(resolve, ms);
  });
}

/** A random version-4 UUID; `crypto.randomUUID` exists only on https and localhost. */
export function uuid() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  var bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  var hex = Array.prototype.map
    .call(bytes, function (byte) {
      return (byte + 0x100).toString(16).slice(1);
    })
    .join("");
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
}
