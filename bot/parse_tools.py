"""`jinlin parse`, `jinlin eval` and `jinlin bench parse`: the parser from the command line."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.cli_support import json_kind, json_problem, utf8_line
from intents import Intent, ParseContext, parse
from intents.lexicon import lexicon
from intents.parser import read
from intents.textmodel import TextModel

ENTITIES = ("building", "urgent", "activity", "headcount")
# Which entities SCHEMA.md judges for which intent.
JUDGED: dict[str, tuple[str, ...]] = {
    "report_problem": ("building", "urgent"),
    "micro_wish": ("building",),
    "join_activity": ("activity", "headcount"),
    "leave_activity": ("activity",),
}
_REPO = Path(__file__).resolve().parents[1]
# The team's shared data sits beside the repository; paths are the package's, not the cwd's,
# so every command works from any folder.
_SHARED = _REPO.parent / "shared"
_DEV_CORPUS = _SHARED / "corpus" / "dev.jsonl"
_OWN_CORPUS = _REPO / "intents" / "training" / "real" / "check.jsonl"  # ships with the repo
_MODEL_OUT = _REPO / "intents" / "data" / "textmodel.json"
PARSE_INPUT = (
    "Input on stdin, one message a line: a JSON object with at least "
    '"text" (a string; "sender", "room" and "activities" optional, other keys ignored), '
    'or plain text (a line not starting with {, [ or " is the message itself). '
    "Output: one JSON object a line, in order (intent, building, urgent, activity, headcount, "
    "category, confidence, explain). A bad line is reported on stderr as LINE: problem and "
    "skipped; the exit code is then 2 (0 when every line was read)."
)


def context_of(row: dict[str, Any]) -> ParseContext:
    """The ParseContext of a labeled or unlabeled JSONL line."""
    return ParseContext(
        room=row.get("room"),
        sender_name=row.get("sender") or "",
        activities=tuple(row.get("activities") or ()),
    )


def as_json(intent: Intent) -> dict[str, Any]:
    """The `jinlin parse` output object of one Intent."""
    return {
        "intent": intent.kind.value,
        "building": intent.building,
        "urgent": intent.urgent,
        "activity": intent.activity,
        "headcount": intent.headcount,
        "category": intent.category.value if intent.category else None,
        "confidence": intent.confidence,
        "explain": list(intent.explain),
    }


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that is not a message, with what is wrong (for `LINE: problem`)."""

    line: int
    problem: str


_OPTIONAL_TEXT = ("sender", "room")


def message_problem(row: dict[str, Any]) -> str | None:
    """What makes a JSON object not a message, or None."""
    if "text" not in row:
        return '缺少 "text"（消息的文字）'
    if not isinstance(row["text"], str):
        return f'"text" 应当是字符串，现在是{json_kind(row["text"])}'
    for key in _OPTIONAL_TEXT:
        if row.get(key) is not None and not isinstance(row[key], str):
            return f'"{key}" 应当是字符串，现在是{json_kind(row[key])}'
    acts = row.get("activities")
    if acts is not None and not (isinstance(acts, list) and all(isinstance(a, str) for a in acts)):
        return '"activities" 应当是活动名称（字符串）的列表'
    return None


def read_lines(
    lines: Iterable[str | bytes], *, plain_text: bool = False
) -> Iterator[tuple[int, dict[str, Any]] | BadLine]:
    """Each non-blank line as (line number, message object), or a BadLine saying why not.

    With `plain_text`, a line that does not start with {, [ or " is itself the text."""
    for n, raw in enumerate(lines, 1):
        try:
            line = utf8_line(raw)
        except ValueError as e:
            yield BadLine(n, str(e))
            continue
        stripped = line.strip().lstrip("\ufeff")
        if not stripped:
            continue
        if plain_text and stripped[0] not in '{["':
            yield n, {"text": line.rstrip("\r\n")}
            continue
        try:
            row = json.loads(stripped)
        except (ValueError, RecursionError) as e:
            yield BadLine(n, json_problem(e))
            continue
        if not isinstance(row, dict):
            yield BadLine(n, f'应当是 JSON 对象 {{"text": ...}}，现在是{json_kind(row)}')
            continue
        problem = message_problem(row)
        if problem is not None:
            yield BadLine(n, problem)
            continue
        yield n, row


def read_jsonl(lines: Iterable[str | bytes], source: str = "<input>") -> Iterator[dict[str, Any]]:
    """The message objects of a JSONL file; a bad line raises ValueError as `FILE:LINE: ...`."""
    for item in read_lines(lines):
        if isinstance(item, BadLine):
            raise ValueError(f"{source}:{item.line}: {item.problem}")
        yield item[1]


def _stdin_lines() -> Iterable[str | bytes]:
    # bytes, so one line of invalid UTF-8 is that line's problem, not the end of the stream
    buffer = getattr(sys.stdin, "buffer", None)
    return buffer if buffer is not None else sys.stdin


def _run_parse(args: argparse.Namespace) -> int:
    out = sys.stdout
    bad = 0
    for item in read_lines(_stdin_lines(), plain_text=True):
        if isinstance(item, BadLine):
            bad += 1
            out.flush()
            print(f"{item.line}: {item.problem}", file=sys.stderr, flush=True)
            continue
        _, row = item
        out.write(json.dumps(as_json(parse(row["text"], context_of(row))), ensure_ascii=False))
        out.write("\n")
    out.flush()
    if bad:
        print(f"有 {bad} 行读不了，已跳过（其余各行照常输出）", file=sys.stderr)
        return 2
    return 0


@dataclass(slots=True)
class Scores:
    """Counts behind the figures `jinlin eval` prints."""

    total: int = 0
    correct: int = 0
    none_total: int = 0
    false_triggers: int = 0
    missed: int = 0
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)
    entity_ok: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENTITIES, 0))
    entity_n: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENTITIES, 0))
    errors: list[tuple[dict[str, Any], dict[str, Any], list[str]]] = field(default_factory=list)
    acted: int = 0  # messages given a request intent
    acted_right: int = 0  # ...whose intent was the expected one
    wishes: int = 0
    wishes_found: int = 0

    @property
    def precision(self) -> float | None:
        """Share of the requests acted on whose intent is right (None when none were)."""
        return self.acted_right / self.acted if self.acted else None

    @property
    def missed_rate(self) -> float | None:
        """Share of requests read as none."""
        requests = self.total - self.none_total
        return self.missed / requests if requests else None

    @property
    def wish_recall(self) -> float | None:
        """Share of micro-wishes read as micro-wishes."""
        return self.wishes_found / self.wishes if self.wishes else None

    @property
    def accuracy(self) -> float:
        """Share of messages whose intent is right."""
        return self.correct / self.total if self.total else 0.0

    @property
    def false_trigger_rate(self) -> float:
        """Share of `none` messages given an intent."""
        return self.false_triggers / self.none_total if self.none_total else 0.0

    def labeled(self) -> list[str]:
        """The intents that occur in the labels."""
        return sorted({want for want, _ in self.confusion})

    def macro_f1(self) -> float | None:
        """Mean F1 over the labeled intents; None with fewer than two (a mean of one class
        says nothing a reader would call macro-F1; a prediction of an intent no line is
        labeled with is counted as a false positive of nothing and shows in accuracy)."""
        labels = self.labeled()
        if len(labels) < 2:
            return None
        f1s = []
        for label in sorted(labels):
            tp = self.confusion.get((label, label), 0)
            fp = sum(n for (e, p), n in self.confusion.items() if p == label and e != label)
            fn = sum(n for (e, p), n in self.confusion.items() if e == label and p != label)
            f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
        return sum(f1s) / len(f1s)

    def entity(self, name: str) -> float | None:
        """Accuracy of one entity over the messages where it is judged, or None if none are."""
        n = self.entity_n[name]
        return self.entity_ok[name] / n if n else None


Parser = Callable[[str, ParseContext], Intent]


def reading_with(model: TextModel | None) -> Parser:
    """A parser that decides with the given text model (None: the rules alone)."""

    def parser(text: str, ctx: ParseContext) -> Intent:
        return read(text, ctx, model)

    return parser


def score(rows: Iterable[dict[str, Any]], parser: Parser = parse) -> Scores:
    """Parse labeled rows and count what the parser got right."""
    s = Scores()
    for row in rows:
        expect = row["expect"]
        got = as_json(parser(row.get("text", ""), context_of(row)))
        want, have = expect["intent"], got["intent"]
        s.total += 1
        s.confusion[(want, have)] = s.confusion.get((want, have), 0) + 1
        wrong: list[str] = []
        if want == have:
            s.correct += 1
        else:
            wrong.append("intent")
        if have != "none":
            s.acted += 1
            s.acted_right += want == have
        if want == "micro_wish":
            s.wishes += 1
            s.wishes_found += have == "micro_wish"
        if want == "none":
            s.none_total += 1
            s.false_triggers += have != "none"
        elif have == "none":
            s.missed += 1
        for name in JUDGED.get(want, ()):
            if name not in expect:
                continue
            s.entity_n[name] += 1
            if got[name] == expect[name]:
                s.entity_ok[name] += 1
            else:
                wrong.append(name)
        if wrong:
            s.errors.append((row, got, wrong))
    return s


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _macro(s: Scores) -> str:
    f1 = s.macro_f1()
    if f1 is None:
        return f"macro-F1 - (every line is labeled {', '.join(s.labeled()) or 'nothing'})"
    return f"macro-F1 {f1:.2f}"


def confusion_lines(s: Scores) -> list[str]:
    """The confusion matrix with its axes named: rows labeled, columns parsed."""
    labels = sorted({k for pair in s.confusion for k in pair})
    corner = "labeled \\ parsed"
    width = max(len(corner), *(len(x) for x in labels))
    lines = ["confusion matrix (rows: labeled intent, columns: parsed intent)"]
    lines.append(f"  {corner:<{width}}" + "".join(f"  {x:>{len(x)}}" for x in labels))
    for want in labels:
        cells = "".join(f"  {s.confusion.get((want, have), 0):>{len(have)}}" for have in labels)
        lines.append(f"  {want:<{width}}{cells}")
    return lines


def summary(s: Scores) -> list[str]:
    """The three closing lines of `jinlin eval`: intents, false triggers, entities."""
    return [
        f"intent accuracy {s.accuracy:.2f}  {_macro(s)}",
        f"false triggers {100 * s.false_trigger_rate:.1f}% ({s.false_triggers}/{s.none_total})"
        f"  missed requests {s.missed}",
        "  ".join(f"{name} {_fmt(s.entity(name))}" for name in ENTITIES),
    ]


def table_row(name: str, s: Scores) -> str:
    """One line of a per-source table: size, accuracy, false triggers, missed, wishes."""
    ft = f"{100 * s.false_trigger_rate:5.1f}%" if s.none_total else "    - "
    missed = s.missed_rate
    miss = f"{100 * missed:5.1f}%" if missed is not None else "    - "
    return (
        f"  {name:<26} {s.total:>5}  acc {s.accuracy:.3f}  false {ft}  missed {miss}"
        f"  wish {_fmt(s.wish_recall)}  precision {_fmt(s.precision)}"
    )


def _group_key(by: str) -> Callable[[Path, dict[str, Any]], str]:
    from intents.learning import group_of

    if by == "kind":
        return lambda path, row: str(row.get("kind", "-"))
    if by == "source":
        return lambda path, row: str(row.get("source", "-")).split(" (")[0]
    return group_of


def _run_eval(args: argparse.Namespace) -> int:
    if args.cross_source:
        return _run_cross_source(args)
    if args.file is None:
        print("jinlin eval：请给出标注好的 JSONL 文件，或加 --cross-source", file=sys.stderr)
        return 2
    path = Path(args.file)
    if not path.exists():
        print(f"jinlin eval：没有这个文件：{path}", file=sys.stderr)
        return 2
    try:
        with path.open("rb") as f:
            rows = list(read_jsonl(f, str(path)))
        for n, row in enumerate(rows, 1):
            if not isinstance(row.get("expect"), dict) or "intent" not in row["expect"]:
                raise ValueError(f'{path}：第 {n} 条消息没有标注 "expect": {{"intent": ...}}')
    except ValueError as e:
        print(f"jinlin eval：{e}", file=sys.stderr)
        return 2
    parser = reading_with(None) if args.rules_only else parse
    s = score(rows, parser)
    for row, got, wrong in s.errors[: args.errors]:
        print(f"{row.get('id', '?')}  wrong: {', '.join(wrong)}")
        print(f"  text:   {row.get('text', '')!r}  sender: {row.get('sender', '')!r}")
        print(f"  expect: {json.dumps(row['expect'], ensure_ascii=False)}")
        shown = {k: got[k] for k in ("intent", *ENTITIES)}
        print(f"  got:    {json.dumps(shown, ensure_ascii=False)}")
        print(f"  explain: {' | '.join(got['explain'])}")
    if args.by:
        key = _group_key(args.by)
        groups: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(key(path, row), []).append(row)
        print(f"by {args.by}:")
        for name, members in sorted(groups.items()):
            print(table_row(name, score(members, parser)))
    print(f"{path}: {s.total} messages")
    print("\n".join(confusion_lines(s)))
    threshold = lexicon().thresholds.model_min_probability
    print(f"precision at the threshold {threshold:.2f}: {_fmt(s.precision)} ({s.acted} acted on)")
    print("\n".join(summary(s)))
    return 0


def _shared(args: argparse.Namespace) -> Path | None:
    shared = Path(args.shared)
    if (shared / "corpus" / "dev.jsonl").exists():
        return shared
    print(f"提示：{shared} 下没有共享数据，只用仓库自带的数据", file=sys.stderr)
    return None


def _run_cross_source(args: argparse.Namespace) -> int:
    from intents.learning import cross_source, featurise, load_examples, training_files

    samples = featurise(load_examples(training_files(_shared(args))))
    print("cross-source: trained on every other source, tested on this one")
    for name, rows, model in cross_source(samples, c=args.c):
        print(table_row(name, score(rows, reading_with(model))), flush=True)
    return 0


def _run_train(args: argparse.Namespace) -> int:
    from intents.learning import featurise, load_examples, train, training_files

    began = time.perf_counter()
    samples = featurise(load_examples(training_files(_shared(args))))
    model = train(samples, c=args.c)
    text = model.to_json()
    out = Path(args.out)
    out.write_text(text + "\n", encoding="utf-8")
    used = sum(s.features is not None for s in samples)
    print(
        f"{out}: {len(model.weights):,} features, {len(text) / 1e6:.2f} MB, "
        f"temperature {model.temperature:.2f}; {used:,} of {len(samples):,} examples "
        f"(the rest the rules decide alone); {time.perf_counter() - began:.0f} s"
    )
    return 0


_FIRST_PARSE = (
    "import time; t = time.perf_counter(); c = time.process_time()\n"
    "from intents import ParseContext, parse\n"
    "from intents.lexicon import lexicon\n"
    "from intents.textmodel import text_model\n"
    "t1 = time.perf_counter(); lexicon(); t2 = time.perf_counter(); text_model()\n"
    "t3 = time.perf_counter()\n"
    "parse('3栋电梯又坏了，有人被困在里面了！', ParseContext(room='武夷香榭3栋业主群'))\n"
    "print(time.perf_counter() - t, t2 - t1, t3 - t2, time.process_time() - c)\n"
)


def _run_bench(args: argparse.Namespace) -> int:
    if args.what == "fuzz":
        from bot.fuzzing import bench_fuzz

        return bench_fuzz(args.config, args.count, args.seed)
    if args.what != "parse":
        from bot.bench import cli as bench_cli

        return bench_cli.run(args)
    path = Path(args.file) if args.file else _DEV_CORPUS if _DEV_CORPUS.exists() else _OWN_CORPUS
    if not path.exists():
        print(f"jinlin bench：没有这个文件：{path}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _FIRST_PARSE], capture_output=True, text=True, check=True
    )
    process_first = time.perf_counter() - start
    in_process_first, lexicon_load, model_load, first_cpu = (float(x) for x in done.stdout.split())
    try:
        with path.open("rb") as f:
            rows = [(r["text"], context_of(r)) for r in read_jsonl(f, str(path))]
    except ValueError as e:
        print(f"jinlin bench：{e}", file=sys.stderr)
        return 2
    latencies: list[int] = []
    cpu_latencies: list[int] = []  # CPU time of this thread: what a busy machine does not inflate
    clock, thread_clock = time.perf_counter_ns, time.thread_time_ns
    began, cpu_began = clock(), time.process_time()
    for _ in range(args.repeat):
        for text, ctx in rows:
            t0, c0 = clock(), thread_clock()
            parse(text, ctx)
            cpu_latencies.append(thread_clock() - c0)
            latencies.append(clock() - t0)
    elapsed = (clock() - began) / 1e9
    # CPU time of this one thread: other processes on the machine do not count against it
    cpu = time.process_time() - cpu_began
    latencies.sort()
    cpu_latencies.sort()
    p50 = statistics.median(latencies) / 1e6
    p99 = latencies[int(0.99 * (len(latencies) - 1))] / 1e6
    cpu_p50 = statistics.median(cpu_latencies) / 1e6
    cpu_p99 = cpu_latencies[int(0.99 * (len(cpu_latencies) - 1))] / 1e6
    print(f"{len(latencies)} messages ({len(rows)} x {args.repeat}), one core")
    print(
        f"throughput {len(latencies) / cpu:,.0f} messages/s of CPU time "
        f"({len(latencies) / elapsed:,.0f} by the wall clock)"
    )
    print(
        f"latency p50 {p50:.3f} ms  p99 {p99:.3f} ms "
        f"(CPU time: p50 {cpu_p50:.3f} ms  p99 {cpu_p99:.3f} ms)"
    )
    print(
        f"first parse {in_process_first:.3f} s after import starts, "
        f"{process_first:.3f} s after the interpreter starts "
        f"(of which lexicons {lexicon_load:.3f} s, text model {model_load:.3f} s; "
        f"{first_cpu:.3f} s of CPU time)"
    )
    _bench_floods()
    return 0


def _bench_floods() -> None:
    """Hostile long messages: the parser's time must stay flat (it is linear, then capped)."""
    ctx = ParseContext(room="武夷香榭3栋业主群", sender_name="3栋402-王阿姨")
    floods = [(f"{n:,} newlines", "3栋电梯坏了" + "\n" * n) for n in (10_000, 20_000, 51_200)]
    floods += [
        ("100 KB of digits", "1" * 100_000 + "元"),
        ("100 KB of clauses", "3栋电梯坏了，" * 14_000),
    ]
    shown = []
    for name, text in floods:
        c0 = time.thread_time_ns()
        parse(text, ctx)
        shown.append(f"{name} {(time.thread_time_ns() - c0) / 1e6:.1f} ms")
    print("long messages (CPU time): " + ", ".join(shown))


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `parse`, `eval` and `bench` to the `jinlin` command line."""
    p = sub.add_parser(
        "parse",
        help="read messages on stdin (JSONL or plain text), write intents as JSONL",
        description=PARSE_INPUT,
    )
    p.set_defaults(func=_run_parse)

    e = sub.add_parser("eval", help="score the parser on a labeled JSONL file")
    e.add_argument("file", nargs="?", help="labeled JSONL (the format of shared/corpus/SCHEMA.md)")
    e.add_argument("--errors", type=int, default=0, metavar="N", help="show the first N errors")
    e.add_argument(
        "--by", choices=["group", "kind", "source"], help="also print one line per group of rows"
    )
    e.add_argument(
        "--cross-source",
        action="store_true",
        help="for each source: train on all the others, test on it (needs the train extra)",
    )
    e.add_argument(
        "--rules-only", action="store_true", help="score the rules without the text model"
    )
    e.add_argument("--shared", default=str(_SHARED), help="the shared data folder")
    e.add_argument("--c", type=float, default=16.0, help="--cross-source: as for jinlin train")
    e.set_defaults(func=_run_eval)

    t = sub.add_parser("train", help="fit the text model (needs the train extra)")
    t.add_argument("--shared", default=str(_SHARED), help="the shared data folder")
    t.add_argument("--out", default=str(_MODEL_OUT), help="where to write the model")
    t.add_argument("--c", type=float, default=16.0, help="inverse regularisation strength")
    t.set_defaults(func=_run_train)

    b = sub.add_parser("bench", help="measure the speed of a component")
    from bot.bench import options as bench_options

    b.add_argument(
        "what",
        choices=["parse", "fuzz", *bench_options.MODES],
        help="fuzz: hostile messages, dispatcher; e2e, city, all: see README (City scale)",
    )
    b.add_argument(
        "--file",
        help=f"(parse) JSONL messages to parse (default: {_DEV_CORPUS} if present, "
        f"else {_OWN_CORPUS.relative_to(_REPO)} of the repository)",
    )
    b.add_argument("--repeat", type=int, default=30, help="(parse) passes over the file")
    b.add_argument("--config", help="fuzz: the config whose rooms and people are used")
    b.add_argument("--count", type=int, default=20_000, help="fuzz: how many messages")
    b.add_argument("--seed", type=int, default=1, help="the random seed (fuzz, e2e, city, all)")
    bench_options.add_arguments(b)
    b.set_defaults(func=_run_bench)
