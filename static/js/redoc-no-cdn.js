// Redoc's menu always shows Redocly's logo from cdn.redoc.ly. Ava serves everything from this
// server and its Content Security Policy refuses other hosts (a refused image is a console error),
// so that one image is swapped for an empty one before Redoc asks the browser for it.
(() => {
  const EMPTY = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E";
  const local = (value) => (String(value).startsWith("https://cdn.redoc.ly/") ? EMPTY : value);
  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    return setAttribute.call(this, name, this instanceof HTMLImageElement && name === "src" ? local(value) : value);
  };
  const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    ...src,
    set(value) { src.set.call(this, local(value)); },
  });
})();
