/* ANSI SGR escape codes to safe DOM nodes: 16, 256 and truecolor (38;2 / 48;2) colours, bold, dim,
   italic, underline and reset. Text only ever reaches the page through textContent; colours either
   become class names (the 16 base colours) or validated rgb() values. Other escape sequences
   (cursor moves, erase) are dropped. */

const ESCAPE = /\x1b\[([0-9;:]*)([A-Za-z])/g;
const CUBE = [0, 95, 135, 175, 215, 255];

function color256(index) {
  if (index < 16) return { name: String(index) };
  if (index < 232) {
    const n = index - 16;
    return { rgb: [CUBE[Math.floor(n / 36)], CUBE[Math.floor(n / 6) % 6], CUBE[n % 6]] };
  }
  const gray = 8 + (index - 232) * 10;
  return { rgb: [gray, gray, gray] };
}

function byte(value) {
  const number = Number(value);
  return Number.isInteger(number) && number >= 0 && number <= 255 ? number : null;
}

/* Reads an extended colour (38/48) starting at codes[i]; returns [colour or null, codes consumed]. */
function extendedColor(codes, i) {
  if (codes[i + 1] === "5") {
    const index = byte(codes[i + 2]);
    return [index === null ? null : color256(index), 3];
  }
  if (codes[i + 1] === "2") {
    const rgb = [byte(codes[i + 2]), byte(codes[i + 3]), byte(codes[i + 4])];
    return [rgb.includes(null) ? null : { rgb }, 5];
  }
  return [null, 1];
}

function applyCodes(style, parameters) {
  const codes = parameters === "" ? ["0"] : parameters.split(/[;:]/);
  for (let i = 0; i < codes.length; i += 1) {
    const code = Number(codes[i] || 0);
    if (code === 0) Object.assign(style, { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false });
    else if (code === 1) style.bold = true;
    else if (code === 2) style.dim = true;
    else if (code === 3) style.italic = true;
    else if (code === 4) style.underline = true;
    else if (code === 22) Object.assign(style, { bold: false, dim: false });
    else if (code === 23) style.italic = false;
    else if (code === 24) style.underline = false;
    else if (code >= 30 && code <= 37) style.fg = { name: String(code - 30) };
    else if (code >= 90 && code <= 97) style.fg = { name: String(code - 90 + 8) };
    else if (code === 39) style.fg = null;
    else if (code >= 40 && code <= 47) style.bg = { name: String(code - 40) };
    else if (code >= 100 && code <= 107) style.bg = { name: String(code - 100 + 8) };
    else if (code === 49) style.bg = null;
    else if (code === 38 || code === 48) {
      const [colour, used] = extendedColor(codes, i);
      if (colour) style[code === 38 ? "fg" : "bg"] = colour;
      i += used - 1;
    }
  }
}

/* The text split into runs of one style: [{text, style}], escape codes removed. */
export function ansiSegments(text) {
  const segments = [];
  const style = { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false };
  let last = 0;
  ESCAPE.lastIndex = 0;
  for (let match = ESCAPE.exec(text); match; match = ESCAPE.exec(text)) {
    if (match.index > last) segments.push({ text: text.slice(last, match.index), style: { ...style } });
    if (match[2] === "m") applyCodes(style, match[1]);
    last = ESCAPE.lastIndex;
  }
  if (last < text.length) segments.push({ text: text.slice(last), style: { ...style } });
  return segments;
}

/* The text without escape codes (what search and copy see). */
export function ansiStrip(text) {
  return text.replace(ESCAPE, "");
}

function styled(style, text) {
  const plain = !style.fg && !style.bg && !style.bold && !style.dim && !style.italic && !style.underline;
  if (plain) return document.createTextNode(text);
  const span = document.createElement("span");
  span.textContent = text;
  if (style.bold) span.classList.add("ansi-bold");
  if (style.dim) span.classList.add("ansi-dim");
  if (style.italic) span.classList.add("ansi-italic");
  if (style.underline) span.classList.add("ansi-underline");
  for (const [key, colour] of [["fg", style.fg], ["bg", style.bg]]) {
    if (!colour) continue;
    if (colour.name) span.classList.add(`ansi-${key}-${colour.name}`);
    else span.style[key === "fg" ? "color" : "backgroundColor"] = `rgb(${colour.rgb.join(",")})`;
  }
  return span;
}

/* Appends the text's runs to parent; `marks` are [start, end) ranges of the stripped text that are
   wrapped in <mark> (search matches), `current` the index of the one that is the current match. */
export function appendAnsi(parent, text, marks = [], current = -1) {
  let offset = 0;
  for (const segment of ansiSegments(text)) {
    const end = offset + segment.text.length;
    let cut = offset;
    marks.forEach(([start, stop], index) => {
      if (stop <= cut || start >= end) return;
      const from = Math.max(start, cut);
      const to = Math.min(stop, end);
      if (from > cut) parent.appendChild(styled(segment.style, segment.text.slice(cut - offset, from - offset)));
      const mark = document.createElement("mark");
      if (index === current) mark.className = "current";
      mark.appendChild(styled(segment.style, segment.text.slice(from - offset, to - offset)));
      parent.appendChild(mark);
      cut = to;
    });
    if (cut < end) parent.appendChild(styled(segment.style, segment.text.slice(cut - offset)));
    offset = end;
  }
}
