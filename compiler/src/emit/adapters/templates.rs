//! The upload scripts' templates: `compiler/templates/`, bundled into the binary and rendered
//! with minijinja.
//!
//! In: a template's name and the values it names. Out: its text. Nothing is escaped behind
//! the template's back: auto-escaping is off for every template, and each value is quoted
//! where it is written with the filter of the language there (`sh_quote`: one shell word),
//! so a reader of the template sees what is quoted. A value the template names but is not
//! given is an error, never an empty string. Templates are parsed on first use, so a build
//! parses only the templates of the targets it lays out.

use minijinja::syntax::SyntaxConfig;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

use super::{Target, sh_quote};

/// A template bundled into the binary: its path under `compiler/templates/`, and its text.
#[derive(Debug, Clone, Copy)]
pub struct Template {
    pub name: &'static str,
    pub text: &'static str,
}

/// What every upload script runs first, after its header comment (`{% include %}`d):
///
/// * strict mode, and the script's own directory as the working directory (the caller's is
///   kept in `$called_from`, for paths the admin gives relative to it);
/// * curl and jq present;
/// * `http`, curl without `~/.curlrc` (a `verbose` line there would print credentials into CI
///   logs) and with `$CURL_OPTS`;
/// * a private directory, removed on exit, and `secret_config FILE OPTION VALUE…`, which
///   writes curl options carrying secrets (API keys, passwords, tokens) into a config file
///   there that only the user can read. The scripts pass secrets to curl with `-K` that way,
///   never as arguments, which other users of a CI host can list. A value with a line break
///   is refused: it would end the config line and start an option of its own.
const PRELUDE: Template = template!("upload-prelude.sh");

/// The text of the bundled template `name`: the prelude, or one of a target's.
fn bundled(name: &str) -> Option<&'static str> {
    std::iter::once(&PRELUDE)
        .chain(Target::ALL.iter().flat_map(|t| t.mdm().templates()))
        .find(|template| template.name == name)
        .map(|template| template.text)
}

/// The bundled templates, ready to render.
///
/// Whitespace follows the template's lines: a line holding only a `{% … %}` or `{# … #}` tag
/// leaves nothing in the output (`trim_blocks`, `lstrip_blocks`), and a template's last line
/// break is kept.
#[derive(Debug, Clone)]
pub struct Templates(Environment<'static>);

impl Templates {
    pub fn new() -> Result<Self, TemplateError> {
        let syntax = SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .map_err(|error| TemplateError::new("(syntax)", &error))?;
        let mut environment = Environment::new();
        environment.set_syntax(syntax);
        environment.set_auto_escape_callback(|_| AutoEscape::None);
        environment.set_undefined_behavior(UndefinedBehavior::Strict);
        environment.set_loader(|name| Ok(bundled(name).map(str::to_string)));
        environment.add_filter("sh_quote", |text: &str| sh_quote(text));
        Ok(Self(environment))
    }

    /// The bundled template `name` rendered with `values` (a map, e.g. `minijinja::context!`).
    pub fn render(&self, name: &str, values: Value) -> Result<String, TemplateError> {
        self.0
            .get_template(name)
            .and_then(|template| template.render(values))
            .map_err(|error| TemplateError::new(name, &error))
    }

    /// The names of the templates rendered (or included) so far.
    #[cfg(all(test, bsic_repo))]
    pub(super) fn loaded(&self) -> Vec<String> {
        self.0
            .templates()
            .map(|(name, _)| name.to_string())
            .collect()
    }
}

/// A bundled template that does not parse or render: a bug in bsic, caught by its tests.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("internal error: the built-in template `{name}` does not render: {message}")]
#[diagnostic(
    code("bsic::internal"),
    help("nothing was written; please report this")
)]
pub struct TemplateError {
    name: String,
    message: String,
}

impl TemplateError {
    fn new(name: &str, error: &minijinja::Error) -> Self {
        Self {
            name: name.to_string(),
            message: format!("{error:#}"),
        }
    }
}

#[cfg(test)]
impl crate::diag::Examples for TemplateError {
    fn examples() -> Vec<Self> {
        let all = vec![Self {
            name: "x".into(),
            message: "x".into(),
        }];
        all
    }
}

#[cfg(test)]
mod tests {
    use minijinja::context;

    use super::*;

    fn render(source: &'static str, values: Value) -> Result<String, minijinja::Error> {
        let templates = Templates::new().unwrap();
        let mut environment = templates.0;
        environment.add_template("test.sh", source)?;
        environment.get_template("test.sh")?.render(values)
    }

    #[test]
    fn values_are_quoted_only_where_the_template_says_so() {
        let values = context! { word => "it's <b>&" };
        let text = render("a={{ word|sh_quote }} b={{ word }}\n", values).unwrap();
        assert_eq!(text, "a='it'\\''s <b>&' b=it's <b>&\n");
    }

    #[test]
    fn tag_lines_leave_nothing_and_the_last_line_break_stays() {
        let source = "{# about #}\n{% for x in xs %}\n  {{ x }}\n{% endfor %}\nend\n";
        let text = render(source, context! { xs => vec!["a", "b"] }).unwrap();
        assert_eq!(text, "  a\n  b\nend\n");
    }

    #[test]
    fn a_missing_value_is_an_error() {
        assert!(render("{{ nothing }}", context! {}).is_err());
        let error = Templates::new().unwrap().render("no/such.sh", context! {});
        assert!(error.unwrap_err().to_string().contains("no/such.sh"));
    }
}
