package rules

import (
	"fmt"

	"github.com/tabularium/tabularium/personality/entry"
)

// Registry kinds: which family of entries a log accepts besides role and key
// entries.
const (
	KindLand         = "land"
	KindDiplomas     = "diplomas"
	KindVaccinations = "vaccinations"
)

// Roles, and the role that grants each one (Root for the log's root keys).
const (
	Root              = "root"
	RoleRegistrar     = "registrar"
	RoleNotary        = "notary"
	RoleBank          = "bank"
	RoleCourt         = "court"
	RoleEduMinistry   = "education-ministry"
	RoleHealth        = "health-authority"
	RoleUniversity    = "university"         // an accredited diploma issuer
	RoleVaccinationIs = "vaccination-issuer" // a registered vaccination issuer
)

// Grantor maps each role to the role whose holders grant and revoke it.
var Grantor = map[string]string{
	RoleRegistrar:     Root,
	RoleNotary:        Root,
	RoleBank:          Root,
	RoleCourt:         Root,
	RoleEduMinistry:   Root,
	RoleHealth:        Root,
	RoleUniversity:    RoleEduMinistry,
	RoleVaccinationIs: RoleHealth,
}

// Config is the part of a log's configuration the rules depend on. Two parties
// replaying one log get the same state only with the same Config.
type Config struct {
	// Log is the log's origin; entries naming another log are refused.
	Log string
	// Kind is KindLand, KindDiplomas or KindVaccinations.
	Kind string
	// Roots are the root authority keys (the ministry): they grant the roles
	// that Grantor maps to Root.
	Roots []entry.PublicKey
	// RecoveryWait is how long, in seconds of log time, a key recovery waits
	// before it can be completed; the owner of the lost key can cancel it meanwhile.
	RecoveryWait int64
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch c.Kind {
	case KindLand, KindDiplomas, KindVaccinations:
	default:
		return fmt.Errorf("registry kind %q is not %s, %s or %s", c.Kind, KindLand, KindDiplomas, KindVaccinations)
	}
	if c.Log == "" {
		return fmt.Errorf("registry %s has no log origin", c.Kind)
	}
	if len(c.Roots) == 0 {
		return fmt.Errorf("registry %s has no root authority keys", c.Log)
	}
	for _, r := range c.Roots {
		if !r.Valid() {
			return fmt.Errorf("root key %q is not a valid public key", r)
		}
	}
	if c.RecoveryWait < 0 {
		return fmt.Errorf("recovery wait %d is negative", c.RecoveryWait)
	}
	return nil
}

func (c *Config) isRoot(k entry.PublicKey) bool {
	for _, r := range c.Roots {
		if r == k {
			return true
		}
	}
	return false
}
