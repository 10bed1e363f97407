"""minic's lexer, parser, checker and reference interpreter (examples/minic)."""
from __future__ import annotations

from pathlib import Path

import pytest

from examples.minic import CompileError, Pointer, RunError, Target, parse_program, run, stop_lines
from examples.minic import syntax as s

SHAPES = Path(__file__).resolve().parent.parent / "examples" / "minic" / "programs" / "shapes.mc"


def run_source(source: str, stop_at=()):
    return run(parse_program(source, "t.mc"), stop_at)


def test_every_node_has_its_source_position():
    program = parse_program("int g = 1;\nint main() {\n  int x = g + 2;\n  return x;\n}\n", "p.mc")
    main = program.functions[0]
    local = main.body.body[0]
    assert (main.line, main.column) == (2, 5)
    assert isinstance(local, s.Local) and (local.line, local.column) == (3, 7)
    assert isinstance(local.init, s.Binary) and (local.init.line, local.init.column) == (3, 13)
    assert (local.init.left.line, local.init.left.column) == (3, 11)
    assert local.init.left.decl is program.globals[0]  # names resolve to their declaration
    assert (main.body.end_line, main.body.end_column) == (5, 1)


@pytest.mark.parametrize("source, where, message", [
    ("int main() { return 1 }", "1:23", "expected ';'"),
    ("int main() {\n  return y;\n}", "2:10", "unknown name 'y'"),
    ("int main() {\n  int x = 1;\n  int x = 2;\n  return x;\n}", "3:7", "already declared"),
    ("int main() { int* p = 5; return 0; }", "1:23", "expected int*, found int"),
    ("struct S { int a; };\nint main() { struct S v; return v.b; }", "2:35", "has no field b"),
    ("int f(int a) { return a; }\nint main() { return f(1, 2); }", "2:21", "takes 1 arguments, 2 given"),
    ("int main() { return 1 $ 2; }", "1:23", "unexpected character '$'"),
    ("int f() { return 0; }", "1:1", "no function main"),
    ("int main() { int x = 0; return &x + 1; }", "1:35", "needs two ints"),
])
def test_errors_name_file_line_and_column(source, where, message):
    with pytest.raises(CompileError) as info:
        parse_program(source, "bad.mc")
    assert str(info.value).startswith(f"bad.mc:{where}: "), str(info.value)
    assert message in str(info.value)


def test_exit_code_is_mains_result_modulo_256():
    result = run_source("int main() { return 300; }")
    assert (result.return_value, result.exit_code) == (300, 44)
    assert run_source("int main() { return -1; }").exit_code == 255


def test_arithmetic_is_64_bit_and_division_truncates():
    source = """
    int main() {
        int big = 9223372036854775807;
        int a = big + 1;
        int q = -7 / 2;
        int r = -7 % 2;
        int c = (3 < 4) + (4 <= 4) * 10 + (5 == 6) * 100 + !0 * 1000;
        return 0;
    }"""
    stop = run_source(source, stop_at=[8]).stops[0]
    assert stop.locals == {"big": 2**63 - 1, "a": -2**63, "q": -3, "r": -1, "c": 1011}


def test_loop_stops_once_per_condition_evaluation():
    source = """int sum(int n) {
    int total = 0;
    while (n > 0) {
        total = total + n;
        n = n - 1;
    }
    return total;
}
int main() { return sum(3); }
"""
    result = run_source(source, stop_at=[3, 8])
    assert result.return_value == 6
    loop = [(st.parameters["n"], st.locals["total"]) for st in result.stops if st.line == 3]
    assert loop == [(3, 0), (2, 3), (1, 5), (0, 6)]
    closing = [st for st in result.stops if st.line == 8]
    assert len(closing) == 1 and closing[0].frames == ("sum", "main")


def test_stops_show_visible_variables_only_and_inner_names_win():
    source = """int x = 5;
int main() {
    int y = 1;
    {
        int x = 2;
        y = x + ::x;
    }
    return y;
}
"""
    with pytest.raises(CompileError):  # minic has no :: operator; a debugger has
        parse_program(source, "t.mc")
    source = source.replace("::x", "y")
    result = run_source(source, stop_at=[3, 6, 8])
    first, inner, last = result.stops
    assert first.locals == {} and first.globals == {"x": 5}
    assert inner.locals == {"y": 1, "x": 2} and inner.globals == {"x": 5}
    assert inner.variables == {"y": 1, "x": 2}
    assert last.locals == {"y": 3}


def test_parameters_hidden_by_a_local_are_not_reported():
    source = "int f(int a) {\n  { int a = 7;\n    return a; }\n}\nint main() { return f(1); }"
    stop = run_source(source, stop_at=[3]).stops[0]
    assert stop.parameters == {} and stop.locals == {"a": 7}


def test_pointers_are_reported_by_what_they_point_to():
    source = """struct P { int a; int* b; };
int g = 4;
struct P gp = {1, &g};
int* gq = &gp.a;
int show(int* p, struct P* q) {
    return *p + q->a;
}
int main() {
    struct P local;
    int* none = 0;
    local.b = &local.a;
    return show(&local.a, &gp) + show(gq, &local);
}
"""
    result = run_source(source, stop_at=[6, 12])
    assert result.return_value == (0 + 1) + (1 + 0)
    at_main = result.stops[0]
    assert at_main.line == 12
    assert at_main.locals["none"] == Pointer(None)
    assert at_main.locals["local"] == {"a": 0, "b": Pointer(Target("local", "a", "main", 0))}
    assert at_main.globals["gp"] == {"a": 1, "b": Pointer(Target("g", None, None, None))}
    assert at_main.globals["gq"] == Pointer(Target("gp", "a", None, None))
    assert at_main.globals["gq"].target.lvalue == "gp.a"
    in_show = result.stops[1]
    assert in_show.frames == ("show", "main")
    assert in_show.parameters == {"p": Pointer(Target("local", "a", "main", 1)),
                                  "q": Pointer(Target("gp", None, None, None))}


def test_a_pointer_into_an_ended_block_is_dangling():
    source = "int main() {\n  int* p = 0;\n  { int x = 1; p = &x; }\n  return 0;\n}"
    stop = run_source(source, stop_at=[4]).stops[0]
    assert stop.locals["p"] == Pointer(Target("x", None, "main", None))
    with pytest.raises(RunError, match=r"t\.mc:4:10: dereference of a pointer to x"):
        run_source(source.replace("return 0", "return *p"))


@pytest.mark.parametrize("body, message", [
    ("int* p = 0; return *p;", "null pointer dereference"),
    ("int z = 0; return 1 / z;", "division by zero"),
    ("while (1) { } return 0;", "step limit"),
])
def test_undefined_behaviour_stops_the_interpreter(body, message):
    with pytest.raises(RunError, match=message):
        run_source(f"int main() {{ {body} }}")


def test_endless_recursion_is_reported():
    with pytest.raises(RunError, match="call depth"):
        run_source("int f(int n) { return f(n + 1); }\nint main() { return f(0); }")


def test_stop_lines_are_statements_and_closing_braces():
    source = "int main() {\n  int a;\n  int b = 2;\n  if (b) {\n    a = 1;\n  }\n  while (a) a = 0;\n  return a;\n}"
    assert stop_lines(parse_program(source, "t.mc")) == {2, 3, 4, 5, 7, 8, 9}


def test_a_declaration_without_initializer_resets_the_local_each_time():
    source = """int main() {
    int total = 0;
    int i = 0;
    while (i < 3) {
        int x;
        x = x + 5;
        total = total + x;
        i = i + 1;
    }
    return total;
}"""
    result = run_source(source, stop_at=[5])
    assert result.return_value == 15
    assert [st.locals.get("x") for st in result.stops] == [None, None, None]  # declared by the statement at 5


def test_shapes_example_runs():
    program = parse_program(SHAPES.read_text(), "shapes.mc")
    # By hand: area(&unit) counts a call in `calls` and gives 1, so box is 6 x 3 and result = 18; the distance
    # |7-3| + |5+4| = 13 is bumped to 14, so result = 32; 32 <= 100 adds sum_to(10) / 5 % 7 = 55 / 5 % 7 = 4 (36);
    # here.y becomes 5 + 5! = 125 and `last` points at it, so the result is 36 + 125 - 1 = 160.
    result = run(program)
    assert result.return_value == 160 and result.exit_code == 160
