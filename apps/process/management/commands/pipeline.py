"""`manage.py pipeline`: check, compile and evaluate pipelines from the command line.

pipeline validate FILE... [--format text|json]
pipeline plan FILE [--input k=v] [--event push] [--branch main | --tag v1] [--sha SHA]
pipeline eval EXPR [--context FILE.json] [--if | --template] [--status success|failure|cancelled]
pipeline eval --jsonl < requests.jsonl
"""

import json
import os
import sys
import tempfile

from django.core.management.base import BaseCommand, CommandError

from apps.process.language import PipelineError, TriggerEvent, compile_pipeline, format_problem, validate
from apps.process.language.expressions import (
    ExpressionError,
    StatusFunctions,
    evaluate,
    evaluate_condition,
    render_template,
)

STATUSES = {
    "success": StatusFunctions(success=True, failure=False, cancelled=False),
    "failure": StatusFunctions(success=False, failure=True, cancelled=False),
    "cancelled": StatusFunctions(success=False, failure=False, cancelled=True),
}


def read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise CommandError(f"{path}: {error.strerror}") from error


def parse_pairs(pairs: list[str], option: str) -> dict:
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"{option} expects KEY=VALUE, got {pair!r}")
        result[key] = value
    return result


def trigger_from_options(options: dict) -> TriggerEvent:
    if options.get("tag"):
        ref = f"refs/tags/{options['tag']}"
    else:
        ref = f"refs/heads/{options.get('branch') or 'main'}"
    return TriggerEvent(event=options.get("event") or "push", ref=ref, sha=options.get("sha") or "")


def evaluate_request(expr: str, context: dict, mode: str, status: StatusFunctions):
    if mode == "template":
        return render_template(expr, context, status)
    if mode == "if":
        return evaluate_condition(expr, context, status)
    if mode == "evaluate":
        return evaluate(expr, context, status)
    raise ExpressionError(f"unknown mode {mode!r}: use evaluate, template or if", None)


class Command(BaseCommand):
    help = "Validate, compile (plan) or evaluate expressions of pipelines."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("validate", help="print every problem as FILE:LINE:COLUMN: message")
        check.add_argument("files", nargs="+")
        check.add_argument("--format", choices=["text", "json"], default="text")
        plan = sub.add_parser("plan", help="print the compiled Plan as JSON")
        plan.add_argument("file")
        self.add_trigger_arguments(plan)
        expr = sub.add_parser("eval", help="evaluate an expression and print its value as JSON")
        expr.add_argument("expr", nargs="?")
        expr.add_argument("--context", help="a JSON file with the contexts (github, env, ...)")
        mode = expr.add_mutually_exclusive_group()
        mode.add_argument("--if", dest="mode", action="store_const", const="if")
        mode.add_argument("--template", dest="mode", action="store_const", const="template")
        mode.add_argument("--jsonl", dest="mode", action="store_const", const="jsonl")
        expr.add_argument("--status", choices=sorted(STATUSES), default="success")
        run = sub.add_parser("run", help="run the pipeline on a local agent and stream its logs")
        run.add_argument("file")
        self.add_trigger_arguments(run)
        run.add_argument("--secret", action="append", default=[], metavar="KEY=VALUE")
        run.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
        run.add_argument("--label", action="append", default=[], metavar="LABEL")
        run.add_argument("--json", action="store_true", help="print one JSON result object on the last line")
        run.add_argument(
            "--approve", action="store_true", help="approve every stage review (with its inputs' defaults)"
        )
        run.add_argument(
            "--timeout", type=float, default=3600, help="seconds before giving up (default 3600)"
        )

    @staticmethod
    def add_trigger_arguments(parser):
        parser.add_argument("--input", action="append", default=[], metavar="KEY=VALUE")
        parser.add_argument("--event", default="push")
        parser.add_argument("--branch")
        parser.add_argument("--tag")
        parser.add_argument("--sha")

    def handle(self, *args, action, **options):
        return getattr(self, f"handle_{action}")(**options)

    def handle_validate(self, *, files, format, **options):
        report = {path: validate(read_file(path), filename=path) for path in files}
        if format == "json":
            payload = [
                {"file": path, "line": p.line, "column": p.column, "path": p.path, "message": p.message}
                for path, problems in report.items()
                for p in problems
            ]
            self.stdout.write(json.dumps(payload, indent=2))
        else:
            for path, problems in report.items():
                for problem in problems:
                    self.stdout.write(format_problem(problem, path))
        if any(report.values()):
            sys.exit(1)

    def handle_plan(self, *, file, input, **options):
        try:
            plan = compile_pipeline(
                read_file(file),
                filename=file,
                trigger=trigger_from_options(options),
                inputs=parse_pairs(input, "--input"),
            )
        except PipelineError as error:
            for problem in error.problems:
                self.stderr.write(format_problem(problem, file))
            sys.exit(1)
        self.stdout.write(json.dumps(plan, indent=2))

    def handle_run(
        self, *, file, input, secret, env, label, json: bool, timeout: float, approve: bool, **options
    ):
        from apps.process import local_run

        text = read_file(file)
        if os.environ.get(local_run.CHILD_FLAG) != "1":
            with tempfile.TemporaryDirectory(prefix="devops-run-") as home:
                sys.exit(local_run.reexec_in_temporary_home(sys.argv[1:], home))
        problems = validate(text, filename=file)
        if problems:
            for problem in problems:
                self.stderr.write(format_problem(problem, file))
            sys.exit(1)
        trigger = trigger_from_options(options)
        run_options = local_run.LocalRunOptions(
            file=file,
            text=text.decode("utf-8"),
            inputs=parse_pairs(input, "--input"),
            variables=parse_pairs(env, "--env"),
            secrets=parse_pairs(secret, "--secret"),
            labels=label,
            event=trigger.event,
            ref=trigger.ref,
            as_json=json,
            timeout=timeout,
            approve=approve,
        )
        sys.exit(local_run.run_local(run_options, self.stdout))

    def handle_eval(self, *, expr, context, mode, status, **options):
        if mode == "jsonl":
            return self.eval_lines()
        if expr is None:
            raise CommandError("give an expression, or --jsonl to read requests from standard input")
        contexts = json.loads(read_file(context)) if context else {}
        try:
            value = evaluate_request(expr, contexts, mode or "evaluate", STATUSES[status])
        except ExpressionError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(json.dumps(value))

    def eval_lines(self):
        for line in sys.stdin:
            if not line.strip():
                continue
            self.stdout.write(json.dumps(self.eval_line(line)))
            self.stdout.flush()

    @staticmethod
    def eval_line(line: str) -> dict:
        try:
            request = json.loads(line)
            status = STATUSES.get(request.get("status", "success"), STATUSES["success"])
            value = evaluate_request(
                request["expr"], request.get("context") or {}, request.get("mode", "evaluate"), status
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            return {"error": f"bad request: {error}"}
        except ExpressionError as error:
            return {"error": str(error)}
        return {"value": value}
