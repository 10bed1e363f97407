"""Name resolution and type checking. After :func:`check`, every Name points to its declaration, every expression
has a type, every Member knows its field and every Call its function: the interpreter and the code generator need
not look anything up again.

The rules, kept small on purpose:
* int arithmetic (``+ - * / %``, unary ``-`` and ``!``) only on ints; no pointer arithmetic;
* comparisons between two ints, or ``==``/``!=`` between pointers of one type (``0`` is the null pointer);
* ``&`` takes the address of an int or struct lvalue; ``*`` dereferences ``int*`` or ``struct S*``;
* a struct is used only through its fields, ``&`` and ``*``: no struct assignment, parameter or return value;
* conditions are ints or pointers; a function returns an int or a pointer; ``main`` takes no parameters.
"""
from __future__ import annotations

from . import syntax as s
from .errors import CompileError

MAX_PARAMS = 6
"""Every parameter arrives in a register on both targets (x86_64: rdi..r9, aarch64: x0..x5)."""
INT_MIN, INT_MAX = -(1 << 63), (1 << 63) - 1


def check(program: s.Program) -> s.Program:
    """Resolves and type-checks ``program`` in place and returns it; raises CompileError at the first problem."""
    _Checker(program).run()
    return program


class _Checker:
    def __init__(self, program: s.Program) -> None:
        self.program = program
        self.structs: dict[str, s.StructType] = {}
        self.globals: dict[str, s.Global] = {}
        self.functions: dict[str, s.Function] = {}
        self.scopes: list[dict[str, s.Variable]] = []
        self.function: s.Function | None = None

    def error(self, node, message: str) -> CompileError:
        return CompileError(self.program.filename, node.line, node.column, message)

    def run(self) -> None:
        for decl in self.program.structs:
            self.struct(decl)
        global_types: list[tuple[s.Global, s.Type]] = []
        for g in self.program.globals:
            self.declare_global_name(g, g.name)
            g.type = self.resolve(g.type_name)
            global_types.append((g, g.type))
            self.globals[g.name] = g
        for f in self.program.functions:
            self.declare_global_name(f, f.name)
            f.return_type = self.resolve(f.return_type_name)
            if isinstance(f.return_type, s.StructType):
                raise self.error(f.return_type_name, "a function cannot return a struct; return a pointer to it")
            if len(f.params) > MAX_PARAMS:
                raise self.error(f, f"{f.name} has {len(f.params)} parameters; at most {MAX_PARAMS} are supported")
            for p in f.params:
                p.type = self.resolve(p.type_name)
                if isinstance(p.type, s.StructType):
                    raise self.error(p, "a struct cannot be passed by value; pass a pointer to it")
            self.functions[f.name] = f
        for g, t in global_types:  # after all globals are declared: an initializer may take any one's address
            self.global_init(g, t, g.init)
        main = self.functions.get("main")
        if main is None:
            raise CompileError(self.program.filename, 1, 1, "the program has no function main")
        if main.params or main.return_type != s.INT:
            raise self.error(main, "main must be declared as int main()")
        for f in self.program.functions:
            self.function = f
            self.scopes = [{}]
            for p in f.params:
                self.declare(p)
            # The body's own declarations share the parameters' scope, as in C.
            self.statements(f.body.body)

    # -- declarations

    def declare_global_name(self, node, name: str) -> None:
        if name in self.globals or name in self.functions:
            raise self.error(node, f"{name!r} is already declared")

    def struct(self, decl: s.StructDecl) -> None:
        if decl.name in self.structs:
            raise self.error(decl, f"struct {decl.name} is already declared")
        fields: list[s.StructField] = []
        for i, (type_name, name, line, column) in enumerate(decl.fields):
            t = self.resolve(type_name)
            if t not in (s.INT, s.PointerType(s.INT)):
                raise self.error(type_name, f"field {name} of struct {decl.name} must be an int or an int*")
            if any(f.name == name for f in fields):
                raise CompileError(self.program.filename, line, column, f"struct {decl.name} has two fields {name}")
            fields.append(s.StructField(name, t, i * s.WORD))
        if not fields:
            raise self.error(decl, f"struct {decl.name} has no fields")
        decl.type = self.structs[decl.name] = s.StructType(decl.name, tuple(fields))

    def resolve(self, type_name: s.TypeName) -> s.Type:
        if type_name.struct is None:
            base: s.IntType | s.StructType = s.INT
        else:
            if type_name.struct not in self.structs:
                raise self.error(type_name, f"unknown type struct {type_name.struct}")
            base = self.structs[type_name.struct]
        return s.PointerType(base) if type_name.pointer else base

    def global_init(self, g: s.Global, t: s.Type, init: s.Initializer | None) -> None:
        if init is None:
            return
        if isinstance(t, s.StructType):
            if init.items is None or len(init.items) != len(t.fields):
                raise self.error(init, f"{g.name} needs {{...}} with {len(t.fields)} values for {t}")
            for f, item in zip(t.fields, init.items, strict=True):
                self.global_init(g, f.type, item)
        elif init.items is not None:
            raise self.error(init, f"{{...}} initializes a struct, not {t}")
        elif init.number is not None:
            if t != s.INT and init.number != 0:
                raise self.error(init, f"{g.name} is {t}: initialize it with 0 or an address")
            self.check_range(init, init.number)
        else:
            target = self.globals.get(init.address_of or "")
            if target is None:
                raise self.error(init, f"&{init.address_of}: no global of that name")
            pointee = target.type
            if init.field_name is not None:
                field = pointee.field(init.field_name) if isinstance(pointee, s.StructType) else None
                if field is None:
                    raise self.error(init, f"{target.name} has no field {init.field_name}")
                pointee = field.type
            if not isinstance(pointee, (s.IntType, s.StructType)) or t != s.PointerType(pointee):
                raise self.error(init, f"{g.name} is {t} but the initializer has a different type")

    def check_range(self, node, value: int) -> None:
        if not INT_MIN <= value <= INT_MAX:
            raise self.error(node, f"{value} does not fit in a 64-bit int")

    def declare(self, var: s.Variable) -> None:
        scope = self.scopes[-1]
        if var.name in scope:
            raise self.error(var, f"{var.name!r} is already declared in this scope")
        scope[var.name] = var

    def lookup(self, name: s.Name) -> s.Variable:
        for scope in reversed(self.scopes):
            if name.name in scope:
                return scope[name.name]
        if name.name in self.globals:
            return self.globals[name.name]
        raise self.error(name, f"unknown name {name.name!r}")

    # -- statements

    def statements(self, body: list[s.Stmt]) -> None:
        for stmt in body:
            self.statement(stmt)

    def statement(self, stmt: s.Stmt) -> None:
        if isinstance(stmt, s.Block):
            self.scopes.append({})
            self.statements(stmt.body)
            self.scopes.pop()
        elif isinstance(stmt, s.Local):
            stmt.type = self.resolve(stmt.type_name)
            if stmt.init is not None:
                if isinstance(stmt.type, s.StructType):
                    raise self.error(stmt, "a struct local cannot have an initializer; it starts zeroed")
                self.assignable(stmt.type, stmt.init, f"initializer of {stmt.name}")
            self.declare(stmt)  # after the initializer: `int x = x;` refers to an outer x
        elif isinstance(stmt, s.Assign):
            target = self.expr(stmt.target)
            if not self.is_lvalue(stmt.target):
                raise self.error(stmt.target, "the left side of = must be a variable, *pointer or field")
            if isinstance(target, s.StructType):
                raise self.error(stmt.target, "cannot assign a whole struct; assign its fields")
            self.assignable(target, stmt.value, "assignment")
        elif isinstance(stmt, s.ExprStmt):
            if not isinstance(stmt.expr, s.Call):
                raise self.error(stmt, "an expression statement must be a call")
            self.expr(stmt.expr)
        elif isinstance(stmt, s.If):
            self.condition(stmt.cond)
            self.statement(stmt.then)
            if stmt.orelse is not None:
                self.statement(stmt.orelse)
        elif isinstance(stmt, s.While):
            self.condition(stmt.cond)
            self.statement(stmt.body)
        elif isinstance(stmt, s.Return):
            assert self.function is not None and self.function.return_type is not None
            self.assignable(self.function.return_type, stmt.value, f"return value of {self.function.name}")
        else:
            raise AssertionError(stmt)

    def condition(self, expr: s.Expr) -> None:
        if isinstance(self.expr(expr), s.StructType):
            raise self.error(expr, "a condition must be an int or a pointer")

    def assignable(self, target: s.Type, expr: s.Expr, what: str) -> None:
        t = self.expr(expr)
        if t == target:
            return
        if isinstance(target, s.PointerType) and self.is_null(expr):
            expr.type = target  # the literal 0 is this type's null pointer
            return
        raise self.error(expr, f"{what}: expected {target}, found {t}")

    @staticmethod
    def is_null(expr: s.Expr) -> bool:
        return isinstance(expr, s.Number) and expr.value == 0

    @staticmethod
    def is_lvalue(expr: s.Expr) -> bool:
        return (isinstance(expr, s.Name) or (isinstance(expr, s.Unary) and expr.op == "*")
                or (isinstance(expr, s.Member) and (expr.arrow or _Checker.is_lvalue(expr.base))))

    # -- expressions

    def expr(self, e: s.Expr) -> s.Type:
        e.type = self.expr_type(e)
        return e.type

    def expr_type(self, e: s.Expr) -> s.Type:
        if isinstance(e, s.Number):
            self.check_range(e, e.value)
            return s.INT
        if isinstance(e, s.Name):
            e.decl = self.lookup(e)
            assert e.decl.type is not None
            return e.decl.type
        if isinstance(e, s.Unary):
            t = self.expr(e.operand)
            if e.op == "&":
                if not self.is_lvalue(e.operand) or isinstance(t, s.PointerType):
                    raise self.error(e, "& needs an int or struct variable, *pointer or field")
                return s.PointerType(t)
            if e.op == "*":
                if not isinstance(t, s.PointerType):
                    raise self.error(e, f"* needs a pointer, found {t}")
                return t.target
            if t != s.INT:
                raise self.error(e, f"{e.op} needs an int, found {t}")
            return s.INT
        if isinstance(e, s.Binary):
            left, right = self.expr(e.left), self.expr(e.right)
            if e.op in ("==", "!=") and isinstance(left, s.PointerType) and self.is_null(e.right):
                e.right.type = left
            elif e.op in ("==", "!=") and isinstance(right, s.PointerType) and self.is_null(e.left):
                e.left.type = right
            if e.op in ("==", "!=") and isinstance(e.left.type, s.PointerType) and e.left.type == e.right.type:
                return s.INT
            if left != s.INT or right != s.INT:
                raise self.error(e, f"{e.op} needs two ints, found {left} and {right}")
            return s.INT
        if isinstance(e, s.Member):
            base = self.expr(e.base)
            if e.arrow:
                if not (isinstance(base, s.PointerType) and isinstance(base.target, s.StructType)):
                    raise self.error(e, f"-> needs a pointer to a struct, found {base}")
                struct = base.target
            elif isinstance(base, s.StructType):
                struct = base
            else:
                raise self.error(e, f". needs a struct, found {base}")
            e.field_info = struct.field(e.name)
            if e.field_info is None:
                raise self.error(e, f"{struct} has no field {e.name}")
            return e.field_info.type
        if isinstance(e, s.Call):
            f = self.functions.get(e.name)
            if f is None:
                raise self.error(e, f"unknown function {e.name!r}")
            if len(e.args) != len(f.params):
                raise self.error(e, f"{e.name} takes {len(f.params)} arguments, {len(e.args)} given")
            for i, (arg, p) in enumerate(zip(e.args, f.params, strict=True)):
                assert p.type is not None
                self.assignable(p.type, arg, f"argument {i + 1} of {e.name}")
            e.function = f
            assert f.return_type is not None
            return f.return_type
        raise AssertionError(e)
