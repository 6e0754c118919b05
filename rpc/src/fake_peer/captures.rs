//! The replies of a real go-micro v1.18 rpc server, byte for byte, from
//! registry/tests/vectors/gomicro-v1.18/rpc (compiled in, so nothing is read at run time).

/// One captured reply: which case of the README, and every byte the server sent.
#[derive(Debug, Clone, Copy)]
pub struct Capture {
    /// The case's file name without `.response.http` (`01-hello`).
    pub case: &'static str,
    /// The bytes.
    pub bytes: &'static [u8],
}

macro_rules! capture {
    ($case:literal) => {
        Capture {
            case: $case,
            bytes: include_bytes!(concat!(
                "../../../registry/tests/vectors/gomicro-v1.18/rpc/",
                $case,
                ".response.http"
            )),
        }
    };
}

/// `Greeter.Hello` → `{"msg":"Hello x"}`.
pub const HELLO: Capture = capture!("01-hello");
/// `Debug.Health` in JSON → `{"status":"ok"}`.
pub const HEALTH: Capture = capture!("02-health-json");
/// `Debug.Health` in protobuf.
pub const HEALTH_PROTO: Capture = capture!("03-health-proto");
/// `Greeter.Fail` → a go-micro error JSON in `Micro-Error`.
pub const FAIL: Capture = capture!("05-fail");
/// An unknown method → `rpc: can't find method Nope`.
pub const UNKNOWN_METHOD: Capture = capture!("06-unknown-method");
/// An unknown service → `rpc: can't find service Nope`.
pub const UNKNOWN_SERVICE: Capture = capture!("07-unknown-service");
/// An endpoint without a dot.
pub const ILL_FORMED: Capture = capture!("08-endpoint-ill-formed");
/// `Debug.Health` with an unknown field (jsonpb refuses it).
pub const HEALTH_UNKNOWN_FIELD: Capture = capture!("10-health-unknown-field");
/// A request that is not JSON: `text/plain`, no `Micro-Error`.
pub const WRONG_CONTENT_TYPE: Capture = capture!("11-wrong-content-type");
/// The legacy jsonrpc envelope's success.
pub const LEGACY: Capture = capture!("12-legacy-jsonrpc");
/// The legacy codec's error: a body and `Micro-Error`.
pub const LEGACY_ERROR: Capture = capture!("13-legacy-plain-body");
/// Two replies on one connection.
pub const KEEPALIVE: Capture = capture!("14-keepalive");
/// `Greeter.Slow`, after 5 s.
pub const SLOW: Capture = capture!("16-slow-timeout-1s");
/// `Debug.Health` of a server without the Debug handler.
pub const NO_DEBUG: Capture = capture!("17-nodebug-health");

/// Every capture above.
pub const ALL: [Capture; 14] = [
    HELLO,
    HEALTH,
    HEALTH_PROTO,
    FAIL,
    UNKNOWN_METHOD,
    UNKNOWN_SERVICE,
    ILL_FORMED,
    HEALTH_UNKNOWN_FIELD,
    WRONG_CONTENT_TYPE,
    LEGACY,
    LEGACY_ERROR,
    KEEPALIVE,
    SLOW,
    NO_DEBUG,
];

impl Capture {
    /// The first reply of the capture as status, headers and body, read by `httparse` (the
    /// same reader hyper uses), for tests of the reply parser without a socket.
    pub fn parts(&self) -> (http::StatusCode, http::HeaderMap, Vec<u8>) {
        let mut slots = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut slots);
        let httparse::Status::Complete(head) = response.parse(self.bytes).expect("a reply") else {
            panic!("{}: incomplete head", self.case);
        };
        let mut headers = http::HeaderMap::new();
        for header in response.headers.iter() {
            headers.append(
                http::HeaderName::from_bytes(header.name.as_bytes()).expect("a name"),
                http::HeaderValue::from_bytes(header.value).expect("a value"),
            );
        }
        let length: usize = headers
            .get(http::header::CONTENT_LENGTH)
            .map(|value| value.to_str().expect("ASCII").parse().expect("a number"))
            .unwrap_or(0);
        let status = http::StatusCode::from_u16(response.code.expect("a code")).expect("a code");
        (status, headers, self.bytes[head..head + length].to_vec())
    }
}
