//! The operator's commands: `--help` of every command, `check-config` and `config-schema`.

use std::process::{Command, Output};

use returns_gateway::config::Settings;

use crate::helpers::TempDir;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The binary with `args`, this test's environment left out (a stray `RETURNS_GATEWAY__…`
/// variable would change the settings) and `env` added.
fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_returns-gateway"))
        .current_dir(ROOT)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const COMMANDS: [&str; 8] = [
    "serve",
    "check-config",
    "config-schema",
    "healthcheck",
    "demo",
    "sim",
    "schema",
    "token",
];

#[test]
fn every_command_and_flag_has_a_description_and_an_example() {
    let top = text(&run(&["--help"], &[]).stdout);
    for command in COMMANDS {
        assert!(top.contains(&format!("\n  {command} ")), "{command} listed");
        let help = text(&run(&[command, "--help"], &[]).stdout);
        let (about, rest) = help
            .split_once("\n\nUsage: ")
            .expect("a description, then usage");
        assert!(about.len() > 20, "{command}: {about}");
        let examples = rest.split_once("\nExample").map(|(_, e)| e);
        assert!(
            examples.is_some_and(|e| e.contains(&format!("returns-gateway {command}"))),
            "{command} shows an example of itself:\n{help}"
        );
        // Each argument: its line (`  -h, --help`, `      --config <FILE>`, `  <FILE>`), then
        // its description on the same line or the more indented lines below.
        let arguments = rest.split("\nExample").next().unwrap_or_default();
        let mut described: Vec<String> = Vec::new();
        for line in arguments.lines() {
            let text = line.trim_start();
            let indent = line.len() - text.len();
            if (2..=6).contains(&indent) && (text.starts_with('-') || text.starts_with('<')) {
                described.push(text.to_owned());
            } else if let Some(last) = described.last_mut() {
                last.push(' ');
                last.push_str(text);
            }
        }
        let checked = described.len();
        for argument in described {
            if argument.contains("--help") || argument.contains("--version") {
                continue;
            }
            assert!(
                argument.contains("Example: `"),
                "{command}: no description with an example: {argument}"
            );
        }
        assert!(
            checked >= 2,
            "{command}: its arguments were not found in:\n{help}"
        );
    }
}

#[test]
fn config_schema_json_is_the_commands_output() {
    let printed = run(&["config-schema"], &[]);
    assert!(printed.status.success());
    let file = std::fs::read_to_string(format!("{ROOT}/config/schema.json")).unwrap();
    assert!(
        file == text(&printed.stdout),
        "config/schema.json is stale: run `cargo run -- config-schema > config/schema.json`"
    );
    let schema: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert_eq!(
        schema["additionalProperties"], false,
        "unknown keys refused"
    );
    let secret = &schema["definitions"]["Secret"];
    assert_eq!(secret["type"], "string", "secrets are strings: {secret}");
    // No Rust type names in what editors show.
    assert!(
        !file.contains("::") && !file.contains("[`"),
        "Rust paths in the schema"
    );
    for config in ["default.toml", "demo.toml", "production.toml"] {
        let text = std::fs::read_to_string(format!("{ROOT}/config/{config}")).unwrap();
        assert!(
            text.starts_with("#:schema ./schema.json\n"),
            "config/{config} points editors at the schema on its first line"
        );
    }
}

#[test]
fn check_config_prints_the_effective_settings_with_secrets_redacted() {
    let checked = run(&["check-config", "config/demo.toml"], &[]);
    let printed = text(&checked.stdout);
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    assert!(printed.contains("hs256_secret = \"***\""), "{printed}");
    for secret in [
        "demo-secret-not-for-production",
        "procarrier-demo-key",
        "rrr-demo",
    ] {
        assert!(!printed.contains(secret), "{secret} printed");
    }
    // Defaults the file leaves out are filled in, and the output is itself a valid file.
    assert!(printed.contains("\nmax_depth = 15\n"), "{printed}");
    assert!(Settings::from_toml(&printed).is_ok());
}

#[test]
fn check_config_names_the_key_at_fault_on_one_line() {
    let dir = TempDir::new();
    let typo = dir.path().join("typo.toml");
    std::fs::write(&typo, "[server]\nlisten = \"0.0.0.0:4000\"\nmax_dpth = 3\n").unwrap();
    let path = typo.display().to_string();
    for (args, env, named) in [
        (vec!["check-config", path.as_str()], vec![], "max_dpth"),
        (
            vec!["check-config", "config/production.toml"],
            vec![],
            "auth.hs256_secret",
        ),
        (
            vec!["check-config", "config/demo.toml"],
            vec![("RETURNS_GATEWAY__SERVER__MAX_PAGE_SIZE", "0")],
            "server.max_page_size",
        ),
    ] {
        let checked = run(&args, &env);
        let stderr = text(&checked.stderr);
        assert_eq!(checked.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(checked.stdout.is_empty(), "nothing printed on error");
        assert!(stderr.contains(named), "{named} not in: {stderr}");
        assert!(stderr.contains("docs/configuration.md"), "{stderr}");
    }
    // The minimal production file with its secrets from the environment passes.
    let env = [
        (
            "RETURNS_GATEWAY__AUTH__HS256_SECRET",
            "from-the-environment",
        ),
        (
            "RETURNS_GATEWAY__VENDORS__TRACKRU__API_KEY",
            "also-from-there",
        ),
    ];
    let checked = run(&["check-config", "config/production.toml"], &env);
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    let printed = text(&checked.stdout);
    assert!(!printed.contains("from-the-environment") && !printed.contains("also-from-there"));
    assert!(printed.contains("api_key = \"***\""), "{printed}");
}
