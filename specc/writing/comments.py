"""Where each comment of a TOML spec sits, so that ``specc fmt`` can put it back.

tomllib drops comments; tomlkit keeps them in its tree. Each comment is filed
under the path of the key, table header or array it belongs to
(specc/writing/layout.py writes them there again).
"""

from __future__ import annotations

from dataclasses import dataclass

KeyPath = tuple[str | int, ...]


@dataclass
class Comments:
    schema: str | None          # the "#:schema" line
    header: list[str]           # comments at the top of the file, before a blank line
    leading: dict[KeyPath, list[str]]    # lines just above a key or a table header
    inline: dict[KeyPath, tuple[str, str]]  # (spaces, comment) after a value or header
    trailing: dict[KeyPath, list[str]]   # under a table's last key; () is the end of the file
    verbatim: dict[KeyPath, str]  # arrays that hold comments, kept as written
    _above: set[KeyPath] | None = None  # every path with a comment somewhere below it

    def inside(self, path: KeyPath) -> bool:
        """Whether any comment sits below ``path`` (such a table cannot be inline)."""
        if self._above is None:
            self._above = {p[:n] for table in (self.leading, self.inline, self.trailing,
                                               self.verbatim) for p in table for n in range(len(p))}
        return path in self._above


def no_comments(schema: str | None = None) -> Comments:
    """No comments, but a ``#:schema`` line when ``schema`` is one: what a spec that
    specc writes from data has."""
    return Comments(schema, [], {}, {}, {}, {})


def find_comments(text: str) -> Comments:
    """The comments of a valid TOML text, by path."""
    import tomlkit

    found = no_comments()
    walker = _CommentWalker(found)
    walker.walk(tomlkit.parse(text), (), root=True)
    return found


class _CommentWalker:
    """Walks tomlkit's tree in file order and files each comment under a path.

    Comments wait in ``pending`` ("" marks a blank line) until the key or table
    header they precede claims them; at a table's end, those right under its
    last key stay with the table, those after a blank line go to the next header.
    """

    def __init__(self, found: Comments):
        self.found = found
        self.pending: list[str] = []
        self.seen_key = False
        self.aot_count: dict[KeyPath, int] = {}

    def lead(self, path: KeyPath) -> None:
        """The waiting comments go above the key or header at ``path``."""
        lines, self.pending = self.pending, []
        while lines and lines[0] == "":
            lines.pop(0)
        while lines and lines[-1] == "":
            lines.pop()
        if lines:
            self.found.leading.setdefault(path, []).extend(lines)

    def first_key(self, path: KeyPath) -> None:
        """The comments above the first key or header: the file's header, then its own."""
        if self.seen_key:
            return
        self.seen_key = True
        lines, self.pending = self.pending, []
        while lines and lines[0] == "":
            lines.pop(0)
        if lines and lines[0].startswith("#:schema"):
            self.found.schema = lines.pop(0)
        if "" in lines:  # a blank line sets the file's header apart from the first key
            cut = len(lines) - lines[::-1].index("")
            self.pending = lines[cut:]
            lines = lines[:cut]
            while lines and lines[0] == "":
                lines.pop(0)
            self.found.header = lines[:-1]
        else:
            self.pending = lines

    def inline_of(self, path: KeyPath, item) -> None:
        trivia = getattr(item, "trivia", None)
        if trivia is not None and trivia.comment:
            self.found.inline[path] = (trivia.comment_ws or "  ", trivia.comment)

    def walk(self, container, path: KeyPath, root: bool = False, table: bool = True) -> None:
        import tomlkit
        from tomlkit import items

        # A document is a container; a table holds one.
        body = container.body if isinstance(container, tomlkit.TOMLDocument) else container.value.body
        for key, item in body:
            if key is None:
                if isinstance(item, items.Comment):
                    self.pending.append(item.trivia.comment)
                elif isinstance(item, items.Whitespace) and "\n" in item.s:
                    if not self.pending or self.pending[-1] != "":
                        self.pending.append("")
                continue
            here = path + (key.key,)
            self.first_key(here)
            if isinstance(item, items.AoT):
                for element in item.body:
                    n = self.aot_count.get(here, 0)
                    self.aot_count[here] = n + 1
                    self.header(here + (n,), element)
            elif isinstance(item, items.Table):
                if key.is_dotted():
                    # a.b = 1 may become a table or an inline one: its comments go above either.
                    self.lead(here)
                    self.walk(item, here, table=False)
                elif item.is_super_table():
                    self.walk(item, here, table=False)
                else:
                    self.header(here, item)
            else:
                self.lead(here)
                self.inline_of(here, item)
                if isinstance(item, items.Array) and _has_comment(item):
                    self.found.verbatim[here] = item.as_string()
        if root:
            self.first_key(())
            self.lead(())  # the end of the file
            self.found.trailing[()] = self.found.leading.pop((), [])
        elif table:
            # Right under the last key (no blank line): the table's; the rest waits.
            cut = self.pending.index("") if "" in self.pending else len(self.pending)
            mine, self.pending = self.pending[:cut], self.pending[cut:]
            if mine:
                self.found.trailing.setdefault(path, []).extend(mine)

    def header(self, path: KeyPath, table) -> None:
        self.lead(path)
        self.inline_of(path, table)
        self.walk(table, path)


def _has_comment(array) -> bool:
    from tomlkit import items

    for item in array._iter_items():  # tomlkit keeps an array's comments among its items
        if isinstance(item, items.Comment):
            return True
        if isinstance(item, items.Array) and _has_comment(item):
            return True
    return False
