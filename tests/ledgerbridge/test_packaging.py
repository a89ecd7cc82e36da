"""What the product needs at run time: the sandbox and the benchmarks are extras."""

import os
import subprocess
import sys
import textwrap

import pytest

from ledgerbridge.bench import COMMANDS, main


def test_product_modules_import_without_the_sandbox_and_bench_extras(tmp_path):
    # A fresh interpreter where the extras' packages cannot be imported: every
    # module of the product (all but the benchmarks) still imports.
    script = textwrap.dedent(
        """
        import importlib, os, pkgutil, sys
        for name in ("starlette", "uvicorn", "xero_sandbox", "matplotlib"):
            sys.modules[name] = None  # import raises ImportError
        os.environ["DJANGO_SETTINGS_MODULE"] = "ledgerbridge.settings"
        import django
        django.setup()
        import ledgerbridge
        count = 0
        for module in pkgutil.walk_packages(ledgerbridge.__path__, "ledgerbridge."):
            if module.name == "ledgerbridge.bench" or module.name.startswith("ledgerbridge.bench."):
                continue
            importlib.import_module(module.name)
            count += 1
        print("imported", count)
        """
    )
    env = {"LEDGERBRIDGE_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    env.update({k: v for k, v in os.environ.items() if k in ("PYTHONPATH", "HOME")})
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.split()[-1]) > 50


def test_bench_help_lists_every_benchmark(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert f"  {name} " in out


def test_bench_refuses_an_unknown_name(capsys):
    assert main(["nonsense"]) == 2
    assert "no benchmark named 'nonsense'" in capsys.readouterr().err


def test_bench_scale_plot_says_how_to_install_matplotlib(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the bench extra were missing
    result = main(["scale", "--plot", str(tmp_path / "scale.png")])
    assert result == 2
    assert "pip install -e '.[bench]'" in capsys.readouterr().err
    assert not (tmp_path / "scale.png").exists()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_benchmark_has_help(name, capsys):
    with pytest.raises(SystemExit) as exited:
        main([name, "--help"])
    assert exited.value.code == 0
    assert f"ledgerbridge bench {name}" in capsys.readouterr().out


def test_sandbox_command_says_how_to_install_the_sandbox_extra(monkeypatch, capsys):
    from ledgerbridge.cli import main as cli_main

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if the sandbox extra were missing
    assert cli_main(["sandbox", "--port", "1"]) == 1
    assert "pip install -e '.[sandbox]'" in capsys.readouterr().err


def test_sandbox_imports_without_the_product():
    # The sandbox is its own program: no Django, nothing of ledgerbridge.
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        for name in ("django", "ledgerbridge"):
            sys.modules[name] = None
        import xero_sandbox
        for module in pkgutil.walk_packages(xero_sandbox.__path__, "xero_sandbox."):
            if module.name != "xero_sandbox.__main__":
                importlib.import_module(module.name)
        print("ok")
        """
    )
    env = {k: v for k, v in os.environ.items() if k in ("PYTHONPATH", "HOME", "PATH")}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "ok"
