//! Turning signing options (flags, then bsic.kdl) into a loaded signer.
//!
//! Passwords come from an environment variable, a file, or a prompt on a terminal; never
//! from the command line itself.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::clock;
use crate::model::Signing as SigningConfig;
use crate::pipeline::{Error, Signing};
use crate::sign::{KeySource, LoadOptions, Secret, SignError, Signer};

use super::args::SignArgs;

/// Loads the signer the options ask for, or `None` for an unsigned build.
pub(super) fn signer(
    args: &SignArgs,
    config: Option<&SigningConfig>,
    root: &Path,
) -> Result<Option<Signing>, Error> {
    let Some(source) = key_source(args, config, root)? else {
        return Ok(None);
    };
    let now = clock::now()?;
    let options = LoadOptions {
        now: clock::system_now(),
        allow_invalid_dates: args.allow_invalid_certificate_dates,
    };
    let signer = Signer::load(&source, &options)?;
    Ok(Some(Signing { signer, time: now }))
}

fn key_source(
    args: &SignArgs,
    config: Option<&SigningConfig>,
    root: &Path,
) -> Result<Option<KeySource>, Error> {
    if args.no_sign {
        return Ok(None);
    }
    let from_config = |value: &Option<String>| value.as_ref().map(|p| root.join(p));
    if let (Some(cert), Some(key)) = (&args.sign_cert, &args.sign_key) {
        let chain = args
            .chain
            .clone()
            .or_else(|| config.and_then(|c| from_config(&c.chain)));
        return Ok(Some(KeySource::Pem {
            cert: cert.clone(),
            key: key.clone(),
            chain,
        }));
    }
    if let Some(path) = &args.sign_p12 {
        let password = password(args, config, root, path)?;
        return Ok(Some(KeySource::Pkcs12 {
            path: path.clone(),
            password,
        }));
    }
    let Some(config) = config else {
        return Ok(None);
    };
    if let (Some(cert), Some(key)) = (from_config(&config.certificate), from_config(&config.key)) {
        return Ok(Some(KeySource::Pem {
            cert,
            key,
            chain: from_config(&config.chain),
        }));
    }
    if let Some(path) = from_config(&config.p12) {
        let password = password(args, Some(config), root, &path)?;
        return Ok(Some(KeySource::Pkcs12 { path, password }));
    }
    Ok(None)
}

/// The PKCS#12 password: flag env var, flag file, bsic.kdl env var or file, else a prompt.
fn password(
    args: &SignArgs,
    config: Option<&SigningConfig>,
    root: &Path,
    p12: &Path,
) -> Result<Secret, Error> {
    let env = args
        .p12_password_env
        .clone()
        .or_else(|| config.and_then(|c| c.p12_password_env.clone()));
    let file: Option<PathBuf> = args
        .p12_password_file
        .clone()
        .or_else(|| config.and_then(|c| c.p12_password_file.as_ref().map(|p| root.join(p))));
    if let Some(var) = env {
        return std::env::var(&var).map(Secret::new).map_err(|_| {
            Error::Sign(SignError::Password {
                message: format!("the environment variable `{var}` is not set"),
            })
        });
    }
    if let Some(file) = file {
        let text = std::fs::read_to_string(&file).map_err(|e| {
            Error::Sign(SignError::Password {
                message: format!("cannot read `{}`: {e}", file.display()),
            })
        })?;
        return Ok(Secret::new(text.lines().next().unwrap_or_default()));
    }
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        let prompt = format!("password for {}: ", p12.display());
        return rpassword::prompt_password(prompt)
            .map(Secret::new)
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
