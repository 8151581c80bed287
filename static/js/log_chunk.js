/* A `log.appended` message's lines from its chunk (apps/log/chunks.py, docs/logs.md): the texts
   joined by newlines, and in `meta` runs ([value, count, value, count, ...]) of each line's step,
   ts, stream and level, plus `seq` when the numbers are not consecutive from `first_seq`. */

function expand(runs, count) {
  const values = new Array(count);
  let at = 0;
  for (let index = 0; index < runs.length; index += 2) {
    values.fill(runs[index], at, at + runs[index + 1]);
    at += runs[index + 1];
  }
  return values;
}

export function chunkLines({ first_seq: first, line_count: count, text, meta }) {
  const texts = count > 1 ? text.split("\n") : [text];
  const [steps, stamps, streams, levels] = ["step", "ts", "stream", "level"].map((name) =>
    expand(meta[name], count),
  );
  const seqs = meta.seq;
  return texts.map((lineText, index) => ({
    seq: seqs ? seqs[index] : first + index,
    step: steps[index],
    ts: stamps[index],
    stream: streams[index],
    level: levels[index],
    text: lineText,
  }));
}
