//! What an etcd failure means, as a registry [`Error`]: the client's errors are gRPC statuses
//! wrapping transport errors wrapping TLS errors, which an operator cannot act on as they are.
//!
//! - The cluster cannot serve now: [`Error::Unavailable`]. gRPC's `Unavailable` is both "no
//!   connection" and etcd's "no leader" (with the require-leader header every call carries, a
//!   member without a leader answers at once instead of waiting out the timeout).
//! - etcd identifies its errors by their description only (`rpctypes.ErrGRPCNoLeader` is the
//!   text `etcdserver: no leader`, which clientv3 itself compares to tell errors apart), so
//!   those texts are matched here, in the one place that speaks etcd's protocol.
//! - The configuration is wrong: [`Error::Invalid`] with the setting at fault as its field
//!   ([`Field::TlsCaFile`], [`Field::TlsCertFile`], [`Field::TlsServerName`],
//!   [`Field::Credentials`]), found from the typed TLS error at the bottom of the chain or the gRPC code of an auth refusal.
//! - Anything else: [`Error::Backend`] with the client's text.
//!
//! It also says whether a failed call may be tried again ([`Retry`], used by `call`): a call
//! that failed in the connection, or on a member without a leader, yes; an answer, no.

use std::error::Error as StdError;

use rustls::{AlertDescription, CertificateError};
use tonic::Code;

use crate::error::Error;
use crate::field::Field;

/// etcd's description of `ErrGRPCNoLeader` (etcd `api/v3rpc/rpctypes/error.go`).
const NO_LEADER: &str = "etcdserver: no leader";

/// The registry error for a failed etcd call.
pub(crate) fn classify(error: etcd_client::Error) -> Error {
    if let Some(refusal) = tls_refusal(&error) {
        return refusal;
    }
    let etcd_client::Error::GRpcStatus(status) = &error else {
        if connection_failed(&error) {
            return Error::Unavailable(format!("cannot reach etcd ({})", cause(&error)));
        }
        return Error::Backend(error.to_string());
    };
    match status.code() {
        Code::Unavailable if status.message().contains(NO_LEADER) => Error::Unavailable(
            "etcd has no quorum: too few of its members are up to elect a leader".into(),
        ),
        _ if connection_failed(&error) => {
            Error::Unavailable(format!("cannot reach etcd ({})", cause(&error)))
        }
        // An empty user name (auth on, no credentials given), a wrong password, a token
        // etcd no longer knows: each is a refusal of who we are.
        Code::InvalidArgument | Code::Unauthenticated
            if status.message().contains("etcdserver: user name")
                || status
                    .message()
                    .contains("etcdserver: authentication failed")
                || status.message().contains("etcdserver: invalid auth token") =>
        {
            Error::invalid(
                Field::Credentials,
                "etcd requires a user and password, and refused the ones given (if any)",
            )
        }
        Code::PermissionDenied => Error::invalid(
            Field::Credentials,
            "etcd's user has no permission on the /micro/registry/ keys",
        ),
        _ => Error::Backend(error.to_string()),
    }
}

/// Whether a failed call may be tried again (see [`super::call`]).
pub(crate) enum Retry {
    /// It was not served (no connection to the member picked): again, until the timeout.
    NotServed,
    /// The member has no leader: again, while an election may still end.
    NoLeader,
    /// It was answered (a refusal, an error of etcd's): trying again changes nothing.
    No,
}

/// What may be done about `error`.
pub(crate) fn retry(error: &etcd_client::Error) -> Retry {
    if tls_refusal(error).is_some() {
        return Retry::No;
    }
    match error {
        etcd_client::Error::GRpcStatus(status) if status.message().contains(NO_LEADER) => {
            Retry::NoLeader
        }
        _ if connection_failed(error) => Retry::NotServed,
        _ => Retry::No,
    }
}

/// Whether the call failed in the connection rather than in etcd: no connection to the
/// member picked, or one that broke under the call (a member killed). tonic answers these
/// with its own transport error as the status's source, whatever the status code.
fn connection_failed(error: &etcd_client::Error) -> bool {
    match error {
        etcd_client::Error::TransportError(_) | etcd_client::Error::IoError(_) => true,
        etcd_client::Error::GRpcStatus(status) => {
            status.code() == Code::Unavailable || find::<tonic::transport::Error>(status).is_some()
        }
        _ => false,
    }
}

/// The TLS refusal inside `error`, if that is what it is.
fn tls_refusal(error: &etcd_client::Error) -> Option<Error> {
    let wrapped = wrapped(error)?;
    if let Some(tls) = find::<rustls::Error>(wrapped) {
        return Some(tls_error(tls));
    }
    alert_in_text(wrapped).map(|alert| tls_error(&rustls::Error::AlertReceived(alert)))
}

/// Whether the server closed the connection under a call (gRPC `Cancelled` from the
/// transport). On a fresh TLS connection that is how etcd refuses a client certificate when
/// its alert is lost in the race with the request (see [`alert_in_text`]).
pub(crate) fn closed_under_call(error: &etcd_client::Error) -> bool {
    matches!(error, etcd_client::Error::GRpcStatus(status) if status.code() == Code::Cancelled)
}

/// The refusal of a client certificate (or of its absence), for the setting that gives one.
pub(crate) fn client_certificate_refused() -> Error {
    Error::invalid(
        Field::TlsCertFile,
        "etcd refused the client certificate (or wants one and none was given)",
    )
}

/// What a TLS failure says about the settings.
fn tls_error(error: &rustls::Error) -> Error {
    match error {
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => Error::invalid(
            Field::TlsServerName,
            "etcd's certificate is not valid for the name connected to",
        ),
        rustls::Error::InvalidCertificate(problem) => Error::invalid(
            Field::TlsCaFile,
            format!("etcd's certificate is not trusted: {problem:?}"),
        ),
        rustls::Error::AlertReceived(alert) if REFUSED_CLIENT_CERTIFICATE.contains(alert) => {
            client_certificate_refused()
        }
        rustls::Error::InvalidMessage(_) => Error::invalid(
            Field::Tls,
            "etcd does not speak TLS on this address (use http:// or no TLS flags)",
        ),
        other => Error::invalid(Field::Tls, format!("TLS with etcd failed: {other}")),
    }
}

/// The alerts a server sends when it refuses the client's certificate, or wants one and got
/// none (Go's TLS stack, which etcd uses, sends `BadCertificate` for both in TLS 1.3).
const REFUSED_CLIENT_CERTIFICATE: [AlertDescription; 5] = [
    AlertDescription::CertificateRequired,
    AlertDescription::BadCertificate,
    AlertDescription::UnknownCA,
    AlertDescription::HandshakeFailure,
    AlertDescription::CertificateUnknown,
];

/// How rustls writes [`rustls::Error::AlertReceived`]: `received fatal alert: BadCertificate`.
const ALERT_TEXT: &str = "received fatal alert: ";

/// A TLS alert that reached us as text. In TLS 1.3 a server refuses a client certificate
/// after the handshake, so the alert arrives on the HTTP/2 connection, and h2 keeps I/O
/// errors as their kind and text (to make them cloneable): the rustls error is gone, its text
/// (an `InvalidData` I/O error) is what is left to read.
fn alert_in_text(error: &(dyn StdError + 'static)) -> Option<AlertDescription> {
    let mut next = Some(error);
    while let Some(current) = next {
        let text = current
            .downcast_ref::<std::io::Error>()
            .filter(|io| io.kind() == std::io::ErrorKind::InvalidData)
            .and_then(std::io::Error::get_ref)
            .map(ToString::to_string);
        if let Some(name) = text
            .as_deref()
            .and_then(|text| text.strip_prefix(ALERT_TEXT))
        {
            return REFUSED_CLIENT_CERTIFICATE
                .into_iter()
                .find(|alert| format!("{alert:?}") == name);
        }
        next = current.source();
    }
    None
}

/// The first error of type `T` in `error`'s chain, looking inside `io::Error`s too (whose
/// `source` skips the error they wrap, which is where rustls puts its own).
fn find<'a, T: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut next = Some(error);
    while let Some(current) = next {
        if let Some(found) = current.downcast_ref::<T>() {
            return Some(found);
        }
        if let Some(inner) = current
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            if let Some(found) = find::<T>(inner) {
                return Some(found);
            }
        }
        next = current.source();
    }
    None
}

/// What the client's `error` wraps. It reports no `source` itself: its chain starts there.
fn wrapped(error: &etcd_client::Error) -> Option<&(dyn StdError + 'static)> {
    match error {
        etcd_client::Error::GRpcStatus(status) => Some(status),
        etcd_client::Error::TransportError(transport) => Some(transport),
        etcd_client::Error::IoError(io) => Some(io),
        _ => None,
    }
}

/// The innermost message of the client's `error`: "Connection refused (os error 111)", not
/// the layers of client, transport and gRPC text around it.
pub(crate) fn cause(error: &etcd_client::Error) -> String {
    wrapped(error).map_or_else(|| error.to_string(), root_cause)
}

/// The innermost message of `error`'s chain.
fn root_cause(error: &(dyn StdError + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: Code, message: &str) -> etcd_client::Error {
        etcd_client::Error::GRpcStatus(tonic::Status::new(code, message))
    }

    #[test]
    fn no_leader_is_no_quorum() {
        let error = classify(status(Code::Unavailable, "etcdserver: no leader"));
        assert!(
            matches!(&error, Error::Unavailable(message) if message.contains("no quorum")),
            "{error:?}"
        );
    }

    #[test]
    fn refusals_of_the_user_name_the_credentials() {
        for (code, message) in [
            (
                Code::InvalidArgument,
                "etcdserver: authentication failed, invalid user ID or password",
            ),
            (Code::InvalidArgument, "etcdserver: user name is empty"),
            (Code::PermissionDenied, "etcdserver: permission denied"),
        ] {
            let error = classify(status(code, message));
            assert!(
                matches!(&error, Error::Invalid { field, .. } if *field == Field::Credentials),
                "{message}: {error:?}"
            );
        }
    }

    #[test]
    fn tls_errors_inside_io_errors_are_found() {
        let wrapped = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        let error = classify(etcd_client::Error::IoError(wrapped));
        assert!(
            matches!(&error, Error::Invalid { field, .. } if *field == Field::TlsCaFile),
            "{error:?}"
        );
    }

    #[test]
    fn an_alert_passed_on_as_text_is_still_found() {
        let as_h2_leaves_it = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(AlertDescription::BadCertificate).to_string(),
        );
        let error = classify(etcd_client::Error::IoError(as_h2_leaves_it));
        assert!(
            matches!(&error, Error::Invalid { field, .. } if *field == Field::TlsCertFile),
            "{error:?}"
        );
    }

    #[test]
    fn other_statuses_stay_backend_errors() {
        let error = classify(status(Code::Internal, "boom"));
        assert!(matches!(error, Error::Backend(_)), "{error:?}");
    }
}
