//! The LMS method: z-score formula, WHO's restricted z-score, SD curves, and R-compatible
//! rounding to 2 decimals.
//!
//! WHO publishes every growth standard as Box-Cox (L, M, S) parameters. For a measurement `y`:
//!
//! * `z = ((y/M)^L − 1) / (L·S)` (`ln(y/M)/S` if L = 0, which no WHO row uses);
//! * `SDk = M·(1 + L·S·k)^(1/L)`, the value at k standard deviations;
//! * the **restricted** z-score (WAZ, WHZ, BMIZ, arm circumference) replaces the LMS tail
//!   beyond ±3 SD by a linear extrapolation with the spacing between SD2 and SD3:
//!   `z > 3 → 3 + (y − SD3)/(SD3 − SD2)`, `z < −3 → −3 + (y − SD3neg)/(SD2neg − SD3neg)`.

/// One row of LMS parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lms {
    /// Box-Cox power.
    pub l: f64,
    /// Median.
    pub m: f64,
    /// Coefficient of variation.
    pub s: f64,
}

impl Lms {
    /// Linear interpolation `self + f·(hi − self)` of each parameter (WHO's rule off the grid).
    #[inline]
    #[must_use]
    pub fn lerp(&self, hi: &Lms, f: f64) -> Lms {
        Lms {
            l: self.l + f * (hi.l - self.l),
            m: self.m + f * (hi.m - self.m),
            s: self.s + f * (hi.s - self.s),
        }
    }

    /// Plain LMS z-score of `y`. `None` if `y` is not a finite positive number or the result
    /// is not finite.
    #[inline]
    #[must_use]
    pub fn z(&self, y: f64) -> Option<f64> {
        if !(y.is_finite() && y > 0.0) {
            return None;
        }
        let r = y / self.m;
        let z = if self.l == 1.0 {
            // Same value as the general formula (powf(x, 1) is exact), without the powf.
            (r - 1.0) / self.s
        } else if self.l == 0.0 {
            r.ln() / self.s
        } else {
            (r.powf(self.l) - 1.0) / (self.l * self.s)
        };
        z.is_finite().then_some(z)
    }

    /// The value at `k` standard deviations: `M·(1 + L·S·k)^(1/L)`.
    #[inline]
    #[must_use]
    pub fn sd(&self, k: f64) -> f64 {
        if self.l == 0.0 {
            self.m * (self.s * k).exp()
        } else {
            self.m * (1.0 + self.l * self.s * k).powf(1.0 / self.l)
        }
    }

    /// WHO's restricted z-score of `y` (used for WAZ, WHZ, BMIZ and arm circumference).
    /// Identical to [`Lms::z`] for |z| ≤ 3; the SD curves are evaluated only beyond ±3.
    #[inline]
    #[must_use]
    pub fn z_restricted(&self, y: f64) -> Option<f64> {
        let z = self.z(y)?;
        let z = if z > 3.0 {
            let sd3 = self.sd(3.0);
            let sd2 = self.sd(2.0);
            3.0 + (y - sd3) / (sd3 - sd2)
        } else if z < -3.0 {
            let sd3 = self.sd(-3.0);
            let sd2 = self.sd(-2.0);
            -3.0 + (y - sd3) / (sd2 - sd3)
        } else {
            z
        };
        z.is_finite().then_some(z)
    }
}

/// `x` rounded to 2 decimals, as integer hundredths, the way R's `round(x, 2)` does it
/// (R ≥ 4.0): take the nearer of `floor(100x)/100` and `ceil(100x)/100`, measured in double
/// precision, ties to the even candidate. Saturates at the `i32` range for absurd inputs
/// (never panics); callers only pass finite values.
///
/// Fast path: away from a half-way point (more than 1e-9 in the scaled value, far beyond
/// floating-point error) the nearer candidate is plain rounding of `100x`; only near-ties
/// use R's comparison in the unscaled space.
#[inline]
#[must_use]
pub fn round_centi(x: f64) -> i32 {
    let y = x * 100.0;
    let lo = floor_i64(y);
    let frac = y - lo as f64;
    let pick = if (frac - 0.5).abs() > 1e-9 {
        if frac < 0.5 { lo } else { lo.saturating_add(1) }
    } else {
        let hi = lo.saturating_add(1);
        let d_lo = x - lo as f64 / 100.0;
        let d_hi = hi as f64 / 100.0 - x;
        if d_lo < d_hi || (d_lo == d_hi && lo % 2 == 0) {
            lo
        } else {
            hi
        }
    };
    pick.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// `floor(x)` as an integer, without a libm call (baseline x86-64 has no SSE4.1 `roundsd`, so
/// `f64::floor` is a function call on the hot path). Exact for |x| < 2^63; saturates beyond;
/// NaN gives 0.
#[inline]
pub(crate) fn floor_i64(x: f64) -> i64 {
    let t = x as i64; // truncation toward zero, saturating
    if (t as f64) > x {
        t.saturating_sub(1)
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Row who2006_wfa_day.csv, M, day 0: L 0.3487, M 3.3464, S 0.14602.
    const WFA_M0: Lms = Lms {
        l: 0.3487,
        m: 3.3464,
        s: 0.14602,
    };

    #[test]
    fn z_at_median_is_zero() {
        assert_eq!(WFA_M0.z(3.3464), Some(0.0));
        assert_eq!(WFA_M0.z_restricted(3.3464), Some(0.0));
    }

    #[test]
    fn sd_curve_inverts_z() {
        for k in [-3.0, -2.0, -1.0, 1.0, 2.0, 3.0] {
            let y = WFA_M0.sd(k);
            let z = WFA_M0.z(y).expect("finite");
            assert!((z - k).abs() < 1e-12, "k={k} z={z}");
        }
    }

    #[test]
    fn restricted_equals_plain_inside_3sd() {
        for y in [2.2, 2.5, 3.0, 4.0, 4.8] {
            assert_eq!(WFA_M0.z(y), WFA_M0.z_restricted(y));
        }
    }

    #[test]
    fn restricted_above_3sd_by_hand() {
        // SD3 = 3.3464·(1 + 0.3487·0.14602·3)^(1/0.3487), SD2 likewise with 2.
        let sd3 = 3.3464 * (1.0_f64 + 0.3487 * 0.14602 * 3.0).powf(1.0 / 0.3487);
        let sd2 = 3.3464 * (1.0_f64 + 0.3487 * 0.14602 * 2.0).powf(1.0 / 0.3487);
        let y = 6.5;
        assert!(WFA_M0.z(y).expect("finite") > 3.0);
        let want = 3.0 + (y - sd3) / (sd3 - sd2);
        let got = WFA_M0.z_restricted(y).expect("finite");
        assert!((got - want).abs() < 1e-12);
        // The LMS tail is compressed for L > 0: restricted z differs from the plain one.
        assert!((got - WFA_M0.z(y).expect("finite")).abs() > 0.01);
        // Exactly at SD3 the restricted z is 3.
        assert!((WFA_M0.z_restricted(sd3).expect("finite") - 3.0).abs() < 1e-12);
    }

    #[test]
    fn restricted_below_3sd_by_hand() {
        let sd3n = 3.3464 * (1.0_f64 - 0.3487 * 0.14602 * 3.0).powf(1.0 / 0.3487);
        let sd2n = 3.3464 * (1.0_f64 - 0.3487 * 0.14602 * 2.0).powf(1.0 / 0.3487);
        let y = 1.5;
        assert!(WFA_M0.z(y).expect("finite") < -3.0);
        let want = -3.0 + (y - sd3n) / (sd2n - sd3n);
        let got = WFA_M0.z_restricted(y).expect("finite");
        assert!((got - want).abs() < 1e-12);
    }

    #[test]
    fn invalid_measurements_give_none() {
        for y in [0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(WFA_M0.z(y), None, "{y}");
            assert_eq!(WFA_M0.z_restricted(y), None, "{y}");
        }
    }

    #[test]
    fn lerp_midpoint() {
        let a = Lms {
            l: 1.0,
            m: 10.0,
            s: 0.1,
        };
        let b = Lms {
            l: 3.0,
            m: 20.0,
            s: 0.3,
        };
        let c = a.lerp(&b, 0.5);
        assert_eq!((c.l, c.m, c.s), (2.0, 15.0, 0.2));
        assert_eq!(a.lerp(&b, 0.0), a);
    }

    #[test]
    fn rounding_like_r() {
        assert_eq!(round_centi(-2.004), -200);
        assert_eq!(round_centi(-2.006), -201);
        assert_eq!(round_centi(1.999), 200);
        assert_eq!(round_centi(0.0), 0);
        assert_eq!(round_centi(-0.001), 0);
        // 0.285 is stored as 0.28499999999999998: R gives 0.28.
        assert_eq!(round_centi(0.285), 28);
        // 2.675 is stored as 2.67499999999999982: R gives 2.67.
        assert_eq!(round_centi(2.675), 267);
        // Exact binary half-way values go to even, as in R: 0.125 → 0.12, 0.375 → 0.38.
        assert_eq!(round_centi(0.125), 12);
        assert_eq!(round_centi(0.375), 38);
        assert_eq!(round_centi(-0.125), -12);
        // Ties measured in double precision, as R does: for 5.015 (5.01499999999999968) the
        // distances to 5.01 and 5.02 are both 0.004999999999999893, so the even 502 wins;
        // the same holds for -3.005 (→ -3.00, since 300 is even).
        assert_eq!(round_centi(5.015), 502);
        assert_eq!(round_centi(-3.005), -300);
        assert_eq!(round_centi(3.005), 300);
        assert_eq!(round_centi(1e300), i32::MAX);
        assert_eq!(round_centi(-1e300), i32::MIN);
    }

    #[test]
    fn rounding_matches_f64_round_away_from_ties() {
        let mut x = -7.0_f64;
        while x < 7.0 {
            let want = (x * 100.0).round() as i32;
            let frac = (x * 100.0 - (x * 100.0).floor() - 0.5).abs();
            if frac > 1e-6 {
                assert_eq!(round_centi(x), want, "{x}");
            }
            x += 0.000_37;
        }
    }

    #[test]
    fn floor_without_libm() {
        for x in [
            -2.5,
            -2.0,
            -1.999,
            -0.1,
            0.0,
            0.1,
            1.0,
            1.999,
            1023.9999999999999,
        ] {
            assert_eq!(floor_i64(x), x.floor() as i64, "{x}");
        }
        assert_eq!(floor_i64(-1e300), i64::MIN);
        assert_eq!(floor_i64(1e300), i64::MAX);
        assert_eq!(floor_i64(f64::NAN), 0);
    }
}
