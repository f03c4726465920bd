//! The talk's optimization-landscape claims as small, tested experiments ("labs").
