//! The bench's private LAN of network namespaces: nothing it sends can reach the machine's own
//! interfaces. Built by the registry tests' `private_lan` on 10.79.0.0/24 (a subnet no test
//! uses), namespaces `mbench-<pid>-<role>`, deleted on drop, panics included.

use std::net::Ipv4Addr;

#[path = "../../../registry/tests/private_lan/mod.rs"]
mod private_lan;
pub use private_lan::enter;
use private_lan::PrivateLan;

/// The third octet of the bench's subnet.
const SUBNET: u8 = 79;

/// The LAN; hosts are numbered from 0 and host i has 10.79.0.(i+1).
pub struct Lan(PrivateLan);

impl Lan {
    /// Builds a LAN with one host per name in `roles` (used in the namespace names).
    pub fn new(roles: &[&str]) -> Lan {
        let roles: Vec<String> = roles.iter().map(|role| role.to_string()).collect();
        Lan(PrivateLan::new(
            &format!("mbench-{}", std::process::id()),
            SUBNET,
            &roles,
        ))
    }

    /// Host `index`'s IPv4 address.
    pub fn address(index: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, SUBNET, 0, index as u8 + 1)
    }

    /// Host `index`'s namespace name (for `ip netns exec`).
    pub fn namespace(&self, index: usize) -> &str {
        self.0.namespace(index)
    }
}
