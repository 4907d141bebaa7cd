//! Certificate fingerprints, so people can compare what the server prints with what their
//! client sees: the same text as `openssl x509 -fingerprint -sha256`. OpenSSL is linked anyway
//! (the server's TLS, and native-tls's backend on Linux), so it does the hashing and the PEM.

use openssl::x509::X509;

/// The DER bytes of the first certificate in a PEM file.
pub fn first_certificate_der(pem: &[u8]) -> Option<Vec<u8>> {
    X509::from_pem(pem).ok()?.to_der().ok()
}

/// `AB:CD:...`: the SHA-256 of `der`, as `openssl x509 -fingerprint -sha256` prints it.
pub fn fingerprint(der: &[u8]) -> String {
    sha256(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// SHA-256 (FIPS 180-4).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    openssl::sha::sha256(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_as_openssl_prints_them() {
        assert_eq!(
            fingerprint(b"abc"),
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:\
             B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
    }

    #[test]
    fn pem_decoding() {
        let der =
            first_certificate_der(crate::runtime::connect::BUNDLED_CA).expect("the bundled CA");
        // A certificate is a DER SEQUENCE.
        assert_eq!(der.first(), Some(&0x30));
        assert_eq!(first_certificate_der(b"nothing here"), None);
        let truncated = b"-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n";
        assert_eq!(first_certificate_der(truncated), None);
    }
}
