//! Turning signing options (flags, then bsic.kdl) into a loaded signer.
//!
//! Passwords come from an environment variable, a file, or a prompt on a terminal; never
//! from the command line itself.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::clock;
use crate::model::Signing as SigningConfig;
use crate::pipeline::{Error, Signing};
use crate::sign::{KeySource, LoadOptions, Secret, SignError, Signer, secret_file_warning};

use super::args::SignArgs;

/// Loads the signer the options ask for, or `None` for an unsigned build.
pub(super) fn signer(
    args: &SignArgs,
    config: Option<&SigningConfig>,
    root: &Path,
) -> Result<Option<Signing>, Error> {
    let Some((source, password_file)) = key_source(args, config, root)? else {
        return Ok(None);
    };
    let now = clock::now()?;
    let options = LoadOptions {
        now: clock::system_now(),
        allow_invalid_dates: args.allow_invalid_certificate_dates,
    };
    let signer = Signer::load(&source, &options)?;
    // Signing goes ahead; what deserves a look is said on stderr, once per build.
    let key_file = match &source {
        KeySource::Pem { key, .. } => Some(key.as_path()),
        KeySource::Pkcs12 { .. } => None,
    };
    let secrets = [
        key_file.and_then(|p| secret_file_warning(p, "private key")),
        password_file
            .as_deref()
            .and_then(|p| secret_file_warning(p, "PKCS#12 password")),
    ];
    for warning in secrets
        .into_iter()
        .flatten()
        .chain(signer.warnings(&options))
    {
        say!("{:?}", miette::Report::new(warning));
    }
    Ok(Some(Signing { signer, time: now }))
}

/// The identity to load, and the file the PKCS#12 password came from, if it came from one.
fn key_source(
    args: &SignArgs,
    config: Option<&SigningConfig>,
    root: &Path,
) -> Result<Option<(KeySource, Option<PathBuf>)>, Error> {
    if args.no_sign {
        return Ok(None);
    }
    let from_config = |value: &Option<String>| value.as_ref().map(|p| root.join(p));
    if let (Some(cert), Some(key)) = (&args.sign_cert, &args.sign_key) {
        let chain = args
            .chain
            .clone()
            .or_else(|| config.and_then(|c| from_config(&c.chain)));
        return Ok(Some((
            KeySource::Pem {
                cert: cert.clone(),
                key: key.clone(),
                chain,
            },
            None,
        )));
    }
    if let Some(path) = &args.sign_p12 {
        let (password, file) = password(args, config, root, path)?;
        return Ok(Some((
            KeySource::Pkcs12 {
                path: path.clone(),
                password,
            },
            file,
        )));
    }
    let Some(config) = config else {
        return Ok(None);
    };
    if let (Some(cert), Some(key)) = (from_config(&config.certificate), from_config(&config.key)) {
        return Ok(Some((
            KeySource::Pem {
                cert,
                key,
                chain: from_config(&config.chain),
            },
            None,
        )));
    }
    if let Some(path) = from_config(&config.p12) {
        let (password, file) = password(args, Some(config), root, &path)?;
        return Ok(Some((KeySource::Pkcs12 { path, password }, file)));
    }
    Ok(None)
}

/// The PKCS#12 password: flag env var, flag file, bsic.kdl env var or file, else a prompt;
/// with the file it was read from, if any.
fn password(
    args: &SignArgs,
    config: Option<&SigningConfig>,
    root: &Path,
    p12: &Path,
) -> Result<(Secret, Option<PathBuf>), Error> {
    let env = args
        .p12_password_env
        .clone()
        .or_else(|| config.and_then(|c| c.p12_password_env.clone()));
    let file: Option<PathBuf> = args
        .p12_password_file
        .clone()
        .or_else(|| config.and_then(|c| c.p12_password_file.as_ref().map(|p| root.join(p))));
    if let Some(var) = env {
        return std::env::var(&var)
            .map(|p| (Secret::new(p), None))
            .map_err(|_| {
                Error::Sign(SignError::Password {
                    message: format!("the environment variable `{var}` is not set"),
                })
            });
    }
    if let Some(file) = file {
        let text = crate::source::read::read_to_string(&file, crate::source::Input::Credential)
            .map_err(|e| {
                Error::Sign(SignError::Password {
                    message: format!("cannot read `{}`: {e}", file.display()),
                })
            })?;
        return Ok((
            Secret::new(text.lines().next().unwrap_or_default()),
            Some(file),
        ));
    }
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        let prompt = format!("password for {}: ", p12.display());
        return rpassword::prompt_password(prompt)
            .map(|p| (Secret::new(p), None))
            .map_err(|e| {
                Error::Sign(SignError::Password {
                    message: e.to_string(),
                })
            });
    }
    Err(Error::Sign(SignError::Password {
        message: "no password given and no terminal to ask on".into(),
    }))
}
