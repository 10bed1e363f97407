"""The abstract syntax tree of minic, with the types the checker attaches.

Every node records where it starts in the source (``line``, ``column``, both 1-based). Nodes compare by identity
(``eq=False``) so that declarations can be dictionary keys: the checker resolves every name to its declaration node,
and the interpreter and the code generator keep their storage and frame slots keyed by those nodes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

#---------------------------------------------------------------------------------------------------------------- types

WORD = 8
"""Every scalar (int, pointer) is 64 bits."""


@dataclass(frozen=True)
class IntType:
    def __str__(self) -> str:
        return "int"


@dataclass(frozen=True)
class StructField:
    name: str
    type: "Type"
    offset: int


@dataclass(frozen=True)
class StructType:
    name: str
    fields: tuple[StructField, ...]

    @property
    def size(self) -> int:
        return WORD * len(self.fields)

    def field(self, name: str) -> StructField | None:
        return next((f for f in self.fields if f.name == name), None)

    def __str__(self) -> str:
        return f"struct {self.name}"


@dataclass(frozen=True)
class PointerType:
    target: Union[IntType, StructType]

    def __str__(self) -> str:
        return f"{self.target}*"


Type = Union[IntType, PointerType, StructType]
INT = IntType()


def size_of(t: Type) -> int:
    return t.size if isinstance(t, StructType) else WORD


# ------------------------------------------------------------------------------------------------------- type spellings

@dataclass(eq=False)
class TypeName:
    """A type as written: ``int``, ``int*``, ``struct S`` or ``struct S*``; the checker turns it into a Type."""
    line: int
    column: int
    struct: str | None
    """None for int, else the struct's name."""
    pointer: bool

    def __str__(self) -> str:
        return ("int" if self.struct is None else f"struct {self.struct}") + ("*" if self.pointer else "")


# --------------------------------------------------------------------------------------------------------- expressions

@dataclass(eq=False)
class Expr:
    line: int
    column: int
    type: Type | None = field(default=None, init=False)
    """Set by the checker."""


@dataclass(eq=False)
class Number(Expr):
    value: int


@dataclass(eq=False)
class Name(Expr):
    name: str
    decl: "Variable | None" = field(default=None, init=False)
    """The declaration this name refers to; set by the checker."""


@dataclass(eq=False)
class Unary(Expr):
    op: str
    """``-``, ``!``, ``&`` (address of) or ``*`` (dereference)."""
    operand: Expr


@dataclass(eq=False)
class Binary(Expr):
    op: str
    """``+ - * / %`` on ints; ``== != < <= > >=`` giving 0 or 1."""
    left: Expr
    right: Expr


@dataclass(eq=False)
class Member(Expr):
    """``base.name`` (base is a struct) or ``base->name`` (base points to a struct)."""
    base: Expr
    name: str
    arrow: bool
    field_info: StructField | None = field(default=None, init=False)


@dataclass(eq=False)
class Call(Expr):
    name: str
    args: list[Expr]
    function: "Function | None" = field(default=None, init=False)


# ---------------------------------------------------------------------------------------------------------- statements

@dataclass(eq=False)
class Stmt:
    line: int
    column: int


@dataclass(eq=False)
class Variable:
    """What a name can refer to: a global, a parameter or a local (the subclasses below)."""
    line: int
    column: int
    type_name: TypeName
    name: str
    type: Type | None = field(default=None, init=False)


@dataclass(eq=False)
class Param(Variable):
    pass


@dataclass(eq=False)
class Local(Variable, Stmt):
    """``type name;`` or ``type name = init;`` inside a block. Without an initialiser a local starts at 0."""
    init: Expr | None = None


@dataclass(eq=False)
class Assign(Stmt):
    target: Expr
    value: Expr


@dataclass(eq=False)
class ExprStmt(Stmt):
    expr: Expr


@dataclass(eq=False)
class Block(Stmt):
    body: list[Stmt]
    end_line: int
    end_column: int
    """Position of the closing brace."""


@dataclass(eq=False)
class If(Stmt):
    cond: Expr
    then: Stmt
    orelse: Stmt | None


@dataclass(eq=False)
class While(Stmt):
    cond: Expr
    body: Stmt


@dataclass(eq=False)
class Return(Stmt):
    value: Expr


# ------------------------------------------------------------------------------------------------------- declarations

@dataclass(eq=False)
class Initializer:
    """A global's constant initial value: a number, ``&global`` / ``&global.field``, or ``{...}`` for a struct."""
    line: int
    column: int
    number: int | None = None
    address_of: str | None = None
    field_name: str | None = None
    items: list["Initializer"] | None = None


@dataclass(eq=False)
class Global(Variable):
    init: Initializer | None = None


@dataclass(eq=False)
class StructDecl:
    line: int
    column: int
    name: str
    fields: list[tuple[TypeName, str, int, int]]
    """(type, name, line, column) per field."""
    type: StructType | None = field(default=None, init=False)


@dataclass(eq=False)
class Function:
    line: int
    column: int
    return_type_name: TypeName
    name: str
    params: list[Param]
    body: Block
    return_type: Type | None = field(default=None, init=False)


@dataclass(eq=False)
class Program:
    filename: str
    structs: list[StructDecl]
    globals: list[Global]
    functions: list[Function]

    def function(self, name: str) -> Function | None:
        return next((f for f in self.functions if f.name == name), None)
