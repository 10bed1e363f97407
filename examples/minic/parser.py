"""A recursive-descent parser from tokens to the syntax tree. The grammar, one rule per method:

    program     = { struct | global | function }
    struct      = "struct" NAME "{" { type NAME ";" } "}" ";"
    type        = ( "int" | "struct" NAME ) [ "*" ]
    global      = type NAME [ "=" initializer ] ";"
    initializer = [ "-" ] NUMBER | "&" NAME [ "." NAME ] | "{" initializer { "," initializer } "}"
    function    = type NAME "(" [ type NAME { "," type NAME } ] ")" block
    block       = "{" { statement } "}"
    statement   = block | type NAME [ "=" expr ] ";" | "if" "(" expr ")" statement [ "else" statement ]
                | "while" "(" expr ")" statement | "return" expr ";" | expr [ "=" expr ] ";"
    expr        = sum [ ( "==" | "!=" | "<" | "<=" | ">" | ">=" ) sum ]
    sum         = product { ( "+" | "-" ) product }
    product     = unary { ( "*" | "/" | "%" ) unary }
    unary       = ( "-" | "!" | "&" | "*" ) unary | postfix
    postfix     = primary { "." NAME | "->" NAME }
    primary     = NUMBER | NAME | NAME "(" [ expr { "," expr } ] ")" | "(" expr ")"
"""
from __future__ import annotations

from . import syntax as s
from .errors import CompileError
from .lexer import Token, tokenize

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


def parse(source: str, filename: str = "<input>") -> s.Program:
    """Parses a whole program. Names and types are not checked yet: see :func:`examples.minic.check.check`."""
    return _Parser(tokenize(source, filename), filename).program()


class _Parser:
    def __init__(self, tokens: list[Token], filename: str) -> None:
        self.tokens = tokens
        self.pos = 0
        self.filename = filename

    # -- token helpers

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def error(self, message: str, tok: Token | None = None) -> CompileError:
        tok = tok or self.tok
        return CompileError(self.filename, tok.line, tok.column, message)

    def at(self, *texts: str) -> bool:
        return self.tok.kind in ("op", "keyword") and self.tok.text in texts

    def accept(self, text: str) -> Token | None:
        if self.at(text):
            self.pos += 1
            return self.tokens[self.pos - 1]
        return None

    def expect(self, text: str) -> Token:
        tok = self.accept(text)
        if tok is None:
            found = self.tok.text or "end of file"
            raise self.error(f"expected {text!r}, found {found!r}")
        return tok

    def name(self) -> Token:
        if self.tok.kind != "name":
            raise self.error(f"expected a name, found {self.tok.text or 'end of file'!r}")
        self.pos += 1
        return self.tokens[self.pos - 1]

    # -- declarations

    def program(self) -> s.Program:
        program = s.Program(self.filename, [], [], [])
        while self.tok.kind != "eof":
            if self.at("struct") and self.tokens[self.pos + 2].text == "{":
                program.structs.append(self.struct())
                continue
            type_name = self.type_name()
            name = self.name()
            if self.at("("):
                program.functions.append(self.function(type_name, name))
            else:
                init = self.initializer() if self.accept("=") else None
                self.expect(";")
                program.globals.append(s.Global(name.line, name.column, type_name, name.text, init=init))
        return program

    def struct(self) -> s.StructDecl:
        start = self.expect("struct")
        name = self.name()
        self.expect("{")
        fields = []
        while not self.accept("}"):
            type_name = self.type_name()
            field = self.name()
            self.expect(";")
            fields.append((type_name, field.text, field.line, field.column))
        self.expect(";")
        return s.StructDecl(start.line, start.column, name.text, fields)

    def is_type(self) -> bool:
        return self.at("int", "struct")

    def type_name(self) -> s.TypeName:
        start = self.tok
        if self.accept("int"):
            struct = None
        elif self.accept("struct"):
            struct = self.name().text
        else:
            raise self.error(f"expected a type, found {self.tok.text or 'end of file'!r}")
        return s.TypeName(start.line, start.column, struct, self.accept("*") is not None)

    def initializer(self) -> s.Initializer:
        start = self.tok
        if self.accept("{"):
            items = [self.initializer()]
            while self.accept(","):
                items.append(self.initializer())
            self.expect("}")
            return s.Initializer(start.line, start.column, items=items)
        if self.accept("&"):
            target = self.name().text
            field = self.name().text if self.accept(".") else None
            return s.Initializer(start.line, start.column, address_of=target, field_name=field)
        negative = self.accept("-") is not None
        if self.tok.kind != "number":
            raise self.error("a global's initializer must be a number, &global, &global.field or {...}")
        value = int(self.tok.text)
        self.pos += 1
        return s.Initializer(start.line, start.column, number=-value if negative else value)

    def function(self, return_type: s.TypeName, name: Token) -> s.Function:
        self.expect("(")
        params: list[s.Param] = []
        if not self.at(")"):
            while True:
                type_name = self.type_name()
                param = self.name()
                params.append(s.Param(param.line, param.column, type_name, param.text))
                if not self.accept(","):
                    break
        self.expect(")")
        return s.Function(name.line, name.column, return_type, name.text, params, self.block())

    # -- statements

    def block(self) -> s.Block:
        start = self.expect("{")
        body = []
        while not self.at("}"):
            if self.tok.kind == "eof":
                raise self.error(f"block opened at {start.line}:{start.column} is not closed")
            body.append(self.statement())
        end = self.expect("}")
        return s.Block(start.line, start.column, body, end.line, end.column)

    def statement(self) -> s.Stmt:
        start = self.tok
        if self.at("{"):
            return self.block()
        if self.is_type():
            type_name = self.type_name()
            name = self.name()
            init = self.expr() if self.accept("=") else None
            self.expect(";")
            return s.Local(name.line, name.column, type_name, name.text, init=init)
        if self.accept("if"):
            self.expect("(")
            cond = self.expr()
            self.expect(")")
            then = self.statement()
            orelse = self.statement() if self.accept("else") else None
            return s.If(start.line, start.column, cond, then, orelse)
        if self.accept("while"):
            self.expect("(")
            cond = self.expr()
            self.expect(")")
            return s.While(start.line, start.column, cond, self.statement())
        if self.accept("return"):
            value = self.expr()
            self.expect(";")
            return s.Return(start.line, start.column, value)
        target = self.expr()
        if self.accept("="):
            value = self.expr()
            self.expect(";")
            return s.Assign(start.line, start.column, target, value)
        self.expect(";")
        return s.ExprStmt(start.line, start.column, target)

    # -- expressions

    def expr(self) -> s.Expr:
        left = self.sum()
        if self.at(*COMPARISONS):
            op = self.tok
            self.pos += 1
            return s.Binary(op.line, op.column, op.text, left, self.sum())
        return left

    def sum(self) -> s.Expr:
        left = self.product()
        while self.at("+", "-"):
            op = self.tok
            self.pos += 1
            left = s.Binary(op.line, op.column, op.text, left, self.product())
        return left

    def product(self) -> s.Expr:
        left = self.unary()
        while self.at("*", "/", "%"):
            op = self.tok
            self.pos += 1
            left = s.Binary(op.line, op.column, op.text, left, self.unary())
        return left

    def unary(self) -> s.Expr:
        if self.at("-", "!", "&", "*"):
            op = self.tok
            self.pos += 1
            operand = self.unary()
            if op.text == "-" and isinstance(operand, s.Number):
                return s.Number(op.line, op.column, -operand.value)  # a negative literal, not a negation
            return s.Unary(op.line, op.column, op.text, operand)
        return self.postfix()

    def postfix(self) -> s.Expr:
        expr = self.primary()
        while self.at(".", "->"):
            arrow = self.tok.text == "->"
            self.pos += 1
            name = self.name()
            expr = s.Member(name.line, name.column, expr, name.text, arrow)
        return expr

    def primary(self) -> s.Expr:
        tok = self.tok
        if tok.kind == "number":
            self.pos += 1
            return s.Number(tok.line, tok.column, int(tok.text))
        if tok.kind == "name":
            self.pos += 1
            if self.accept("("):
                args: list[s.Expr] = []
                if not self.at(")"):
                    args.append(self.expr())
                    while self.accept(","):
                        args.append(self.expr())
                self.expect(")")
                return s.Call(tok.line, tok.column, tok.text, args)
            return s.Name(tok.line, tok.column, tok.text)
        if self.accept("("):
            expr = self.expr()
            self.expect(")")
            return expr
        raise self.error(f"expected an expression, found {tok.text or 'end of file'!r}")
