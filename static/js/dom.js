/* DOM helpers shared by the page scripts. */

/* A new element with an optional class and text (set as textContent, never parsed as HTML). */
export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
