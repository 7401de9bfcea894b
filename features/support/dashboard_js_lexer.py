"""A small JavaScript lexer for the dashboard's source checks.

It tells code from comments, string literals, the literal parts of template
strings and regular expressions, which is all the checks of
:mod:`support.dashboard_sources` need; it does not parse. A ``/`` starts a
regular expression where an expression may start (after an operator, an
opening bracket or a keyword such as ``return``), as JavaScript tools guess.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["JsToken", "split_js"]

_REGEX_AFTER_WORDS = {
    "return",
    "typeof",
    "case",
    "do",
    "else",
    "in",
    "of",
    "new",
    "delete",
    "void",
    "throw",
    "yield",
    "await",
    "instanceof",
}


@dataclass(frozen=True)
class JsToken:
    """A piece of a script: ``code``, ``comment``, ``string`` (its body, no
    quotes), ``template`` (a literal part of a template string) or ``regex``.

    ``continued``: a template part that follows a ``${...}`` (not the start
    of the string).
    """

    kind: str
    text: str
    line: int
    continued: bool = False


class _JsLexer:
    def __init__(self, source: str) -> None:
        self.source = source
        self.position = 0
        self.tokens: list[JsToken] = []
        self.code: list[str] = []
        self.code_line = 1
        self.last_significant = ""  # the last code word or punctuation, for / after it

    def line(self, position: int | None = None) -> int:
        at = self.position if position is None else position
        return self.source.count("\n", 0, at) + 1

    def flush_code(self) -> None:
        if self.code:
            self.tokens.append(JsToken("code", "".join(self.code), self.code_line))
            self.code = []

    def emit(self, kind: str, text: str, start: int, *, continued: bool = False) -> None:
        self.flush_code()
        self.tokens.append(JsToken(kind, text, self.line(start), continued))

    def add_code(self, char: str) -> None:
        if not self.code:
            self.code_line = self.line()
        self.code.append(char)
        if not char.isspace():
            if char.isalnum() or char in "_$":
                ended = not self.last_significant or not (
                    self.last_significant[-1].isalnum() or self.last_significant[-1] in "_$"
                )
                self.last_significant = char if ended else self.last_significant + char
            else:
                self.last_significant = char

    def regex_allowed(self) -> bool:
        last = self.last_significant
        if not last:
            return True
        if last[-1].isalnum() or last[-1] in "_$":
            return last in _REGEX_AFTER_WORDS
        return last not in {")", "]", "}"}

    def run(self, *, until_brace: bool = False) -> None:
        """Lex code; with ``until_brace``, stop after the ``}`` closing a ``${``."""
        depth = 0
        source = self.source
        while self.position < len(source):
            char = source[self.position]
            pair = source[self.position : self.position + 2]
            if pair == "//":
                end = source.find("\n", self.position)
                end = len(source) if end < 0 else end
                self.emit("comment", source[self.position : end], self.position)
                self.position = end
            elif pair == "/*":
                end = source.find("*/", self.position + 2)
                if end < 0:
                    raise ValueError(f"line {self.line()}: a comment that never ends")
                self.emit("comment", source[self.position : end + 2], self.position)
                self.position = end + 2
            elif char in "'\"":
                self.quoted(char)
            elif char == "`":
                self.template()
            elif char == "/" and self.regex_allowed():
                self.regex()
            else:
                if until_brace and char == "}":
                    if depth == 0:
                        self.position += 1
                        self.last_significant = "}"
                        return
                    depth -= 1
                elif until_brace and char == "{":
                    depth += 1
                self.add_code(char)
                self.position += 1
        if until_brace:
            raise ValueError("a template ${...} that never ends")

    def quoted(self, quote: str) -> None:
        start = self.position
        index = start + 1
        body: list[str] = []
        while index < len(self.source) and self.source[index] != quote:
            if self.source[index] == "\n":
                raise ValueError(f"line {self.line(start)}: a string that never ends")
            if self.source[index] == "\\":
                body.append(self.source[index : index + 2])
                index += 2
                continue
            body.append(self.source[index])
            index += 1
        self.emit("string", "".join(body), start)
        self.position = index + 1
        self.last_significant = quote

    def template(self) -> None:
        start = self.position
        self.position += 1
        body: list[str] = []
        continued = False
        while self.position < len(self.source):
            char = self.source[self.position]
            if char == "\\":
                body.append(self.source[self.position : self.position + 2])
                self.position += 2
            elif char == "`":
                self.emit("template", "".join(body), start, continued=continued)
                self.position += 1
                self.last_significant = "`"
                return
            elif self.source.startswith("${", self.position):
                self.emit("template", "".join(body), start, continued=continued)
                body = []
                self.position += 2
                self.last_significant = "{"
                self.run(until_brace=True)
                start = self.position
                continued = True
            else:
                body.append(char)
                self.position += 1
        raise ValueError(f"line {self.line(start)}: a template string that never ends")

    def regex(self) -> None:
        start = self.position
        index = start + 1
        in_class = False
        while index < len(self.source):
            char = self.source[index]
            if char == "\n":
                raise ValueError(f"line {self.line(start)}: a regular expression that never ends")
            if char == "\\":
                index += 2
                continue
            if char == "[":
                in_class = True
            elif char == "]":
                in_class = False
            elif char == "/" and not in_class:
                break
            index += 1
        index += 1
        while index < len(self.source) and self.source[index].isalpha():
            index += 1  # flags
        self.emit("regex", self.source[start:index], start)
        self.position = index
        self.last_significant = "regex"


def split_js(source: str) -> list[JsToken]:
    """The tokens of a script, in order (code runs, comments, literals).

    Raises:
        ValueError: a comment, string, template or regular expression never ends.
    """
    lexer = _JsLexer(source)
    lexer.run()
    lexer.flush_code()
    return lexer.tokens
