#!/usr/bin/env python3
"""Checks that every code name a document writes in backticks exists in minicnn's code.

    python3 scripts/check_doc_names.py docs/walkthrough.md [docs/architecture.md ...]

A name is an inline code span (`...` outside fenced code blocks) that is, as a whole, one of
    Qualifier::member    `Conv2D::forward`, `gemm::multiply`, `Mode::inference`,
                         `Sequential<float>::predict`, `Layer::backward(x, y, dy, dx, mode)`
    function()           `im2col()`, `load_mnist(dir, Split::test)`, `SparseCategoricalCrossentropy()`
Template and call arguments are dropped before the look-up. Any other span (a formula such as
`y = x W + b`, a path, a shape, a lone type such as `Tensor<T>`) is prose and is not checked.
Names from outside minicnn are skipped: those qualified by the standard library, Eigen, PyTorch or
Keras (`std::...`, `Eigen::...`, `torch::...`), C's math functions (`sqrt()`, `tanh(x)`), OpenMP's
(`omp_set_num_threads()`) and zlib's `crc32()`.

The code is every C++ file under include/ and examples/. Each file is read as a nest of scopes
(namespaces, classes and structs, enums, and blocks such as function bodies), with comments,
literals and preprocessor lines removed. A name exists when
    A::B::m      A is a namespace, class, struct or enum; B is declared in A; and m is declared in
                 B or in one of B's base classes (by name, recursively): `Conv2D::build` is found
                 in Layer, `Dense::im2col` is not found although im2col exists elsewhere;
    f()          some namespace, class or file declares a function, variable or type named f.
"Declared in" means at the scope's own level, not inside a function body, with a type before the
name (`void forward(`, `Tensor<T> grad;`), as a constructor, as `class`/`struct`/`enum`/
`namespace`/`using` f, or as an enumerator. That is a reading, not a C++ parser: it is enough to
catch a misspelt or a renamed name, which is what the check is for.

Exit status: 0 when every name exists, 1 when some do not (each reported with its file and line),
2 on a usage error.
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CODE_DIRS = ("include", "examples")
CODE_SUFFIXES = {".hpp", ".h", ".cpp", ".cc"}
EXTERNAL_QUALIFIERS = {"std", "Eigen", "torch", "nn", "keras", "tf"}
EXTERNAL_FUNCTIONS = {
    "abs", "fabs", "sqrt", "cbrt", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "pow",
    "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "erf", "hypot",
    "fma", "floor", "ceil", "round", "lround", "trunc", "fmod", "min", "max", "isnan", "isinf",
    "isfinite", "crc32"}
# Words that may stand before a name without declaring it (`return f(`, `new T(`).
NOT_TYPES = {"return", "new", "delete", "throw", "else", "case", "goto", "sizeof", "co_return",
             "co_yield", "operator", "typename", "template"}
IDENTIFIER = re.compile(r"~?[A-Za-z_]\w*")


def strip_code(source):
    """The source without comments, string and character literals and preprocessor lines.

    Literals become empty ("" and ''), everything else keeps its place, so braces in strings or
    comments do not open scopes."""
    out = []
    i, n = 0, len(source)
    line_start = True
    while i < n:
        c = source[i]
        if line_start and c == "#":  # a preprocessor line, with its continuations
            while i < n and (source[i] != "\n" or source[i - 1] == "\\"):
                i += 1
            continue
        if c == "/" and source.startswith("//", i):
            i = source.find("\n", i)
            i = n if i < 0 else i
            continue
        if c == "/" and source.startswith("/*", i):
            end = source.find("*/", i + 2)
            i = n if end < 0 else end + 2
            out.append(" ")
            continue
        if c in "\"'":
            j = i + 1
            while j < n and source[j] != c:
                j += 2 if source[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
            line_start = False
            continue
        out.append(c)
        if c == "\n":
            line_start = True
        elif not c.isspace():
            line_start = False
        i += 1
    return "".join(out)


def drop_balanced(text, opening, closing):
    """text without the contents of its outermost balanced opening...closing pairs (kept
    empty), e.g. "f(a, (b))" -> "f()"; an unbalanced text is returned unchanged."""
    out, depth = [], 0
    for c in text:
        if c == opening:
            if depth == 0:
                out.append(c)
            depth += 1
        elif c == closing and depth > 0:
            depth -= 1
            if depth == 0:
                out.append(c)
        elif depth == 0:
            out.append(c)
    return "".join(out) if depth == 0 else text


def drop_template_arguments(text):
    """"Sequential<Tensor<T>>::predict" -> "Sequential::predict"."""
    return drop_balanced(text, "<", ">").replace("<>", "")


class Scope:
    def __init__(self, kind, name="", bases=()):
        self.kind = kind  # "file", "namespace", "class", "enum" or "block"
        self.name = name
        self.bases = list(bases)
        self.parts = []  # the text at this scope's own level; nested scopes appear as "{}"

    def text(self):
        return "".join(self.parts)


# "class Conv2D : public Layer" (template arguments dropped): the name and the bases.
CLASS_HEAD = re.compile(r"(?:class|struct|union)\s+(\w+)\s*(?:final\s*)?(?::(?!:)([\w:,\s]*))?")


def classify(head):
    """The scope a "{" opens, from the text before it (since the last ';', '{' or '}')."""
    head = re.sub(r"^(?:(?:public|protected|private)\s*:\s*)+", "", head.strip())
    head = re.sub(r"^template\b", "", drop_template_arguments(head)).strip()
    match = re.fullmatch(r"(?:inline\s+)?namespace\s*([\w:]*)", head)
    if match:
        return Scope("namespace", match.group(1).split("::")[-1])
    match = re.fullmatch(r"enum\s+(?:class\s+|struct\s+)?(\w*)\s*(?::\s*[\w:\s]+)?", head)
    if match:
        return Scope("enum", match.group(1))
    match = CLASS_HEAD.fullmatch(head)
    if match:
        bases = []
        for base in (match.group(2) or "").split(","):
            words = re.findall(r"[A-Za-z_]\w*(?:::[A-Za-z_]\w*)*", base)
            if words:
                bases.append(words[-1].split("::")[-1])
        return Scope("class", match.group(1), bases)
    return Scope("block")


def read_scopes(source):
    """Every namespace, class, enum and the file itself, each with its own-level text."""
    file_scope = Scope("file")
    scopes, stack = [file_scope], [file_scope]
    head_start = 0  # where the current head begins in stack[-1].parts
    for c in strip_code(source):
        scope = stack[-1]
        if c == "{":
            head = "".join(scope.parts[head_start:])
            scope.parts.append("{")
            inner = classify(head)
            if inner.kind != "block":
                scopes.append(inner)
            stack.append(inner)
            head_start = 0
        elif c == "}" and len(stack) > 1:
            stack.pop()
            stack[-1].parts.append("}")
            head_start = len(stack[-1].parts)
        else:
            scope.parts.append(c)
            if c == ";":
                head_start = len(scope.parts)
    return scopes


def declares(scope, name):
    """Whether `name` is declared at the own level of `scope`."""
    text = scope.text()
    if scope.kind == "enum":
        return re.search(r"(?<![\w:])" + re.escape(name) + r"\b", text) is not None
    word = re.escape(name)
    if re.search(r"\b(?:class|struct|union|enum(?:\s+class|\s+struct)?|namespace|using)\s+" + word +
                 r"\b", text):
        return True
    text = drop_balanced(text, "(", ")")  # parameters are not members
    for match in re.finditer(r"(?<![\w:.~])" + ("~?" if name.startswith("~") else "") +
                             re.escape(name.lstrip("~")) + r"\b\s*([(;={\[,])?", text):
        follower = match.group(1)
        if follower is None:
            continue
        before = text[:match.start()].rstrip()
        if name.startswith("~") or (follower == "(" and name == scope.name):
            if not before or before[-1] in ";{}:":
                return True  # a destructor or a constructor
        if not before or before[-1] not in "_>*&" and not before[-1].isalnum():
            continue
        previous = re.search(r"(\w+)$", before)
        if previous and previous.group(1) in NOT_TYPES:
            continue
        return True
    return False


class Code:
    def __init__(self, root):
        self.scopes = {}
        for directory in CODE_DIRS:
            for path in sorted((root / directory).rglob("*")):
                if path.suffix in CODE_SUFFIXES and path.is_file():
                    for scope in read_scopes(path.read_text(encoding="utf-8", errors="replace")):
                        self.scopes.setdefault(scope.name, []).append(scope)

    def named(self, name):
        return [s for s in self.scopes.get(name, []) if s.kind != "file"]

    def with_bases(self, scopes):
        """The scopes and, recursively, those of their base classes."""
        result, seen = [], set()
        pending = list(scopes)
        while pending:
            scope = pending.pop()
            if id(scope) in seen:
                continue
            seen.add(id(scope))
            result.append(scope)
            for base in scope.bases:
                pending.extend(self.named(base))
        return result

    def problem(self, parts):
        """Why the name made of `parts` (["Conv2D", "forward"]) does not exist, or None."""
        if len(parts) == 1:
            everywhere = [s for group in self.scopes.values() for s in group]
            if self.named(parts[0]) or any(declares(s, parts[0]) for s in everywhere):
                return None
            return "nothing in include/ or examples/ declares " + parts[0]
        holders = self.named(parts[0])
        if not holders:
            return parts[0] + " is no namespace, class, struct or enum in include/ or examples/"
        for i, part in enumerate(parts[1:], start=1):
            if not any(declares(s, part) for s in self.with_bases(holders)):
                return "::".join(parts[:i]) + " has no member " + part
            holders = self.named(part)
        return None


def name_in(span):
    """The parts of the name a code span is (["Conv2D", "forward"]), or None for prose."""
    text = span.strip()
    call = text.endswith(")") and "(" in text
    if call:
        without_arguments = drop_balanced(text, "(", ")")
        if not without_arguments.endswith("()"):
            return None
        text = without_arguments[:-2]
    text = drop_template_arguments(text)
    parts = text.split("::")
    if not all(IDENTIFIER.fullmatch(p) for p in parts) or (len(parts) == 1 and not call):
        return None
    if parts[0] in EXTERNAL_QUALIFIERS or parts[-1].startswith("operator"):
        return None
    if len(parts) == 1 and (parts[0] in EXTERNAL_FUNCTIONS or parts[0].startswith("omp_")):
        return None
    return parts


def code_spans(markdown):
    """(line number, span) for each inline code span outside fenced code blocks."""
    lines, fenced = [], False
    for line in markdown.split("\n"):
        if re.match(r"\s*(```|~~~)", line):
            fenced = not fenced
            lines.append("")
        else:
            lines.append("" if fenced else line)
    text = "\n".join(lines)
    for match in re.finditer(r"(?<!`)`([^`]+?)`(?!`)", text):
        if "\n\n" not in match.group(1):
            yield text.count("\n", 0, match.start()) + 1, " ".join(match.group(1).split())


def main(arguments):
    if not arguments or arguments[0] in ("-h", "--help"):
        print(__doc__.strip().split("\n\n")[0] + "\n\n    python3 scripts/check_doc_names.py "
              "FILE.md [FILE.md ...]", file=sys.stderr)
        return 2
    code = Code(ROOT)
    missing = 0
    for document in arguments:
        path = pathlib.Path(document)
        if not path.is_file():
            print(f"{document}: expected a Markdown file, found none", file=sys.stderr)
            missing += 1
            continue
        names = 0
        for line, span in code_spans(path.read_text(encoding="utf-8")):
            parts = name_in(span)
            if parts is None:
                continue
            names += 1
            problem = code.problem(parts)
            if problem is not None:
                print(f"{document}:{line}: `{span}`: {problem}", file=sys.stderr)
                missing += 1
        print(f"{document}: {names} code names checked against include/ and examples/")
    if missing:
        print(f"check_doc_names: {missing} name(s) not found", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
