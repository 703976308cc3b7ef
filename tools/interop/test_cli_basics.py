"""The CLI's exit-code contract: 0 success, 1 bad input or failed check, 2 usage error."""


def test_help_lists_subcommands(modelkit):
    proc = modelkit("--help", expect=0)
    for name in ("init", "inspect", "check", "convert"):
        assert name in proc.stdout


def test_version(modelkit):
    proc = modelkit("--version", expect=0)
    assert proc.stdout.strip()


def test_unknown_subcommand_is_usage_error(modelkit):
    proc = modelkit("no-such-command", expect=2)
    assert proc.stderr.strip()


def test_unknown_flag_is_usage_error(modelkit):
    modelkit("check", "--no-such-flag", "x.mkf", expect=2)



def test_check_missing_file_is_bad_input(modelkit, workdir):
    proc = modelkit("check", workdir / "absent.mkf", expect=1)
    assert proc.stderr.strip()
    assert "\n" not in proc.stderr.strip(), "the message must be one line"


def test_bad_arch_is_refused_naming_the_item(modelkit):
    proc = modelkit("init", "--arch", "4-8relu-3bogus", "-o", "m.mkf")
    assert proc.returncode in (1, 2)
    assert "3bogus" in proc.stderr
