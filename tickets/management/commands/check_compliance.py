"""Check texts for wording that ties a reward to a review (好评返现).

    python manage.py check_compliance scripts.txt
    cat notes.txt | python manage.py check_compliance -

One text per line (blank lines skipped); prints `FLAG<TAB>text<TAB>reason` or `OK<TAB>text`.
Exits 0 either way: the output is the answer.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from tickets.compliance import ComplianceChecker


class Command(BaseCommand):
    help = "Check texts (one per line) for wording that ties a reward to a review. FILE or - for stdin."

    def add_arguments(self, parser):
        parser.add_argument("file", help="A UTF-8 text file, one text per line; - reads standard input.")

    def handle(self, *args, **options):
        checker = ComplianceChecker()
        path = options["file"]
        if path == "-":
            self._check(checker, sys.stdin)
            return
        try:
            with open(path, encoding="utf-8") as lines:
                self._check(checker, lines)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{path} is not UTF-8 text.") from None

    def _check(self, checker, lines):
        for line in lines:
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            result = checker.check(text)
            if result.flagged:
                self.stdout.write(f"FLAG\t{text}\t{'; '.join(result.reasons)}")
            else:
                self.stdout.write(f"OK\t{text}")
