//! When is 0 a local minimizer of the flat quartic built from a graph?
//!
//! f(x) = sum_ij Q_ij x_i^2 x_j^2 = y'Qy with y = x o x >= 0. Its gradient and Hessian vanish
//! at 0, and because f(r x) = r^4 f(x), 0 is a local minimizer exactly when Q is copositive:
//! y'Qy >= 0 for all y >= 0. Writing y = (1'y) z with z in the simplex, that is
//! min over the simplex of z'Qz >= 0. (See [`quartic`].)
//!
//! **Q = s 11' - A (the form that makes the talk's claim true).** On the simplex (1'z)^2 = 1, so
//! z'Qz = s - z'Az, and by Motzkin-Straus max over the simplex of z'Az = 1 - 1/omega
//! (omega = the clique number). Hence Q is copositive iff s >= 1 - 1/omega, i.e. for s < 1:
//!
//! > 0 fails to be a local minimizer iff the graph has a clique of size k > 1/(1 - s).
//!
//! The critical value is s_c = 1 - 1/omega; at s = s_c exactly, 0 is still a (non-strict)
//! local minimizer. The descent direction is explicit: x uniform on a k-clique, |x| = 1, gives
//! f(x) = s - (k - 1)/k < 0.
//!
//! **Q = I - A + s 11' (the slide's text).** Now z'Qz = s + z'z - z'Az, so Q is copositive iff
//! s >= mu(G) := max over the simplex of z'(A - I)z. mu is squeezed by the clique number but is
//! not a function of it: uniform weight on a maximum clique gives mu >= 1 - 2/omega, and
//! z'z > 0 gives mu < 1 - 1/omega. So for this form
//!
//! > a clique larger than 2/(1 - s) forces failure; failure forces a clique larger than
//! > 1/(1 - s); in between the answer depends on more than omega.
//!
//! Example: a single edge has mu = 0 (z = (1/2, 1/2)) while the star K(1,m), also omega = 2,
//! has mu = (m - 1)/(3m + 1) > 0 (weight (m + 1)/(3m + 1) on the center, the rest spread on
//! the leaves). With s in (0, 1/2) the claim predicts failure for the edge (2 > 1/(1 - s)),
//! but I - A + s 11' is copositive there. Dropping the I recovers the first form, which is
//! what [`experiment`] implements as the claim and checks on every graph; the slide's form is
//! evaluated alongside and its disagreements are counted.
//!
//! Deciding copositivity, like finding omega, is NP-hard; [`max_clique`] is exact branch and
//! bound and the lab reports how its search tree grows with n.

pub mod experiment;
pub mod graph;
pub mod max_clique;
pub mod quartic;
pub mod simplex;

pub use experiment::{run, CliqueConfig, CliqueReport};
