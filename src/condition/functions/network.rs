//! `cidr_contains`: IPv4 and IPv6 network membership.

use std::net::IpAddr;

use ipnet::IpNet;
use jmespath::{Rcvar, Variable};

use super::{BadArgument, quoted, text};

/// `cidr_contains(cidr, ip)`: whether address `ip` lies in network `cidr`. Families never mix: an IPv4
/// address is outside every IPv6 network, IPv4-mapped IPv6 addresses included, and vice versa.
pub(super) fn cidr_contains(args: &[Rcvar]) -> Result<Variable, BadArgument> {
    let network = network(text(args, 0)?)?;
    let address = address(text(args, 1)?)?;
    Ok(Variable::Bool(network.contains(&address)))
}

/// A CIDR network (host bits are ignored: `10.1.2.3/8` is `10.0.0.0/8`); a bare address is the
/// network of that one address, /32 or /128.
pub(super) fn network(text: &str) -> Result<IpNet, BadArgument> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| BadArgument::new(0, "CIDR network", quoted(text)))
}

pub(super) fn address(text: &str) -> Result<IpAddr, BadArgument> {
    text.parse()
        .map_err(|_| BadArgument::new(1, "IP address", quoted(text)))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{error, eval};
    use serde_json::json;

    #[test]
    fn checks_ipv4_and_ipv6_membership() {
        let cases = [
            ("cidr_contains('10.0.0.0/8', '10.20.30.40')", true),
            ("cidr_contains('10.0.0.0/8', '11.0.0.1')", false),
            ("cidr_contains('192.168.1.0/24', '192.168.1.255')", true),
            ("cidr_contains('192.168.1.0/24', '192.168.2.0')", false),
            ("cidr_contains('10.1.2.3/8', '10.200.0.1')", true),
            ("cidr_contains('0.0.0.0/0', '203.0.113.9')", true),
            ("cidr_contains('2001:db8::/32', '2001:db8:1::1')", true),
            ("cidr_contains('2001:db8::/32', '2001:db9::1')", false),
            ("cidr_contains('::/0', '::1')", true),
            ("cidr_contains('10.0.0.5', '10.0.0.5')", true),
            ("cidr_contains('10.0.0.5', '10.0.0.6')", false),
            ("cidr_contains('2001:db8::1', '2001:db8::1')", true),
        ];
        for (expression, expected) in cases {
            assert_eq!(eval(expression, "{}"), json!(expected), "{expression}");
        }
    }

    #[test]
    fn families_never_mix() {
        let cases = [
            "cidr_contains('0.0.0.0/0', '::1')",
            "cidr_contains('::/0', '10.0.0.1')",
            "cidr_contains('10.0.0.0/8', '::ffff:10.0.0.1')",
        ];
        for expression in cases {
            assert_eq!(eval(expression, "{}"), json!(false), "{expression}");
        }
    }

    #[test]
    fn reads_addresses_from_the_event() {
        let data = r#"{"event": {"clientIp": "172.16.5.4"}}"#;
        let expression = "cidr_contains('172.16.0.0/12', event.clientIp)";
        assert_eq!(eval(expression, data), json!(true));
    }

    #[test]
    fn invalid_values_are_named() {
        let cases = [
            (
                "cidr_contains('10.0.0.0/33', '10.0.0.1')",
                r#"Argument 0 expects type CIDR network, given "10.0.0.0/33""#,
            ),
            ("cidr_contains('lan', '10.0.0.1')", r#"given "lan""#),
            (
                "cidr_contains('10.0.0.0/8', '10.0.0.256')",
                r#"Argument 1 expects type IP address, given "10.0.0.256""#,
            ),
            (
                "cidr_contains('10.0.0.0/8', '10.0.0.0/8')",
                r#"given "10.0.0.0/8""#,
            ),
            (
                "cidr_contains('10.0.0.0/8', ' 10.0.0.1')",
                r#"given " 10.0.0.1""#,
            ),
        ];
        for (expression, expected) in cases {
            let message = error(expression, "{}");
            assert!(message.contains(expected), "{expression}: {message}");
        }
    }
}
