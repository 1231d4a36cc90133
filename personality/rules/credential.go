package rules

import (
	"regexp"
	"strings"

	"github.com/tabularium/tabularium/personality/entry"
)

// Diplomas and vaccination certificates are named by the SHA-256 of their
// credential or certificate id, so the id itself stays off the log.
var (
	diplomaObjectRE     = regexp.MustCompile(`^diploma/[0-9a-f]{64}$`)
	vaccinationObjectRE = regexp.MustCompile(`^vaccination/[0-9a-f]{64}$`)
	batchObjectRE       = regexp.MustCompile(`^batch/[A-Za-z0-9-]{1,64}$`)
)

func init() {
	handlers[entry.TypeDiplomaIssue] = handler{kind: KindDiplomas, object: diplomaObjectRE, example: "diploma/<sha-256 of the credential id, hex>",
		creates: true, createOnly: true, docs: []string{"record"}, apply: applyDiplomaIssue, needs: needsOf(role(RoleUniversity))}
	handlers[entry.TypeDiplomaRevoke] = handler{kind: KindDiplomas, object: diplomaObjectRE, example: "diploma/<sha-256 of the credential id, hex>",
		authorize: authorizeRevoke, apply: revoke, needs: needsOf(Need{Roles: []string{RoleEduMinistry}, Unless: "signed by the diploma's issuer"})}
	handlers[entry.TypeVaccinationIssue] = handler{kind: KindVaccinations, object: vaccinationObjectRE, example: "vaccination/<sha-256 of the certificate id, hex>",
		creates: true, createOnly: true, docs: []string{"contents"}, apply: applyVaccinationIssue, needs: needsOf(role(RoleVaccinationIs))}
	handlers[entry.TypeVaccinationRevoke] = handler{kind: KindVaccinations, object: vaccinationObjectRE, example: "vaccination/<sha-256 of the certificate id, hex>",
		authorize: authorizeRevoke, apply: revoke, needs: needsOf(Need{Roles: []string{RoleHealth}, Unless: "signed by the certificate's issuer"})}
	handlers[entry.TypeVaccinationRecall] = handler{kind: KindVaccinations, object: batchObjectRE, example: "batch/<batch id>",
		apply: applyRecall, needs: needsOf(role(RoleHealth))}
}

// issuer returns the signer identity that holds the role the entry needs
// (Apply has checked that one does).
func issuer(c *applyCtx) (entry.PublicKey, *Error) {
	h, err := c.holders(c.needs[0].Roles[0])
	if err != nil {
		return "", err
	}
	if len(h) == 0 {
		return "", c.requireNeed(0)
	}
	return h[0], nil
}

func applyDiplomaIssue(c *applyCtx, obj *Object) *Error {
	iss, err := issuer(c)
	if err != nil {
		return err
	}
	f := fieldsOf[entry.HolderFields](c)
	if err := c.current("holder", f.Holder); err != nil {
		return err
	}
	obj.Status, obj.Issuer, obj.Holder, obj.Docs = StatusValid, iss, f.Holder, c.p.Docs
	if err := c.adjust(iss, asIssuer, +1); err != nil {
		return err
	}
	return c.adjust(f.Holder, asHolder, +1)
}

// authorizeRevoke: a revocation is by the credential's issuer (or the key
// that replaced it) or by a holder of the supervising role the entry needs.
// Whether the credential exists is nobody else's business.
func authorizeRevoke(c *applyCtx, obj *Object) *Error {
	if obj != nil && c.signedBy(obj.Issuer) {
		return nil
	}
	if err := c.requireNeed(0); err != nil {
		return forbidden(CodeRoleNotHeld, "only the issuer of %s or a holder of the role %s can revoke it", c.p.Object, strings.Join(c.needs[0].Roles, " or "))
	}
	return nil
}

// revoke is the rule of a revocation of a diploma or certificate.
func revoke(c *applyCtx, obj *Object) *Error {
	status := obj.Status
	if b := BatchOf(obj); b != "" {
		batch, err := c.get(b)
		if err != nil {
			return err
		}
		status = CertificateStatus(obj, batch)
	}
	if status != StatusValid {
		return conflict(CodeAlreadyRevoked, "%s is already %s", obj.ID, status)
	}
	obj.Status = StatusRevoked
	if err := c.adjust(obj.Issuer, asIssuer, -1); err != nil {
		return err
	}
	if obj.Holder != "" {
		return c.adjust(obj.Holder, asHolder, -1)
	}
	return nil
}

func batchObject(b string) string { return "batch/" + b }

// BatchOf returns the id of the batch object of a vaccination certificate,
// or "" for any other object.
func BatchOf(cert *Object) string {
	if cert == nil || cert.Batch == "" || !strings.HasPrefix(cert.ID, "vaccination/") {
		return ""
	}
	return batchObject(cert.Batch)
}

// CertificateStatus returns the status of a vaccination certificate, given
// the state of its batch object (BatchOf; nil if it has none): StatusRevoked
// if a revocation revoked it, or if its batch was recalled by an entry after
// the one that issued it; otherwise its recorded status. A recall does not
// write the certificates of the batch, so the recorded status of a recalled
// certificate stays valid: the server's object API, the state map's verifier
// and every other reader derive the status with this function. For any other
// object it returns the recorded status.
func CertificateStatus(cert, batch *Object) string {
	if BatchOf(cert) == "" || cert.Status != StatusValid || batch == nil || batch.ID != BatchOf(cert) {
		return cert.Status
	}
	if batch.Status == StatusRecalled && len(cert.History) > 0 && batch.RecalledAt > cert.History[0] {
		return StatusRevoked
	}
	return cert.Status
}

// applyVaccinationIssue issues a certificate. Its batch object is created on
// the first certificate, as bookkeeping, and only read afterwards: batch
// membership is the certificate's Batch field, so issuing costs the same
// whatever the size of the batch.
func applyVaccinationIssue(c *applyCtx, obj *Object) *Error {
	iss, err := issuer(c)
	if err != nil {
		return err
	}
	f := fieldsOf[entry.BatchFields](c)
	batch, err := c.get(batchObject(f.Batch))
	if err != nil {
		return err
	}
	if batch == nil {
		batch = c.create(batchObject(f.Batch), StatusActive)
		batch.Batch = f.Batch
		c.note(batch)
	}
	if batch.Status == StatusRecalled {
		return conflict(CodeBatchRecalled, "batch %s was recalled (entry %d); no certificate can be issued for it", f.Batch, batch.RecalledAt)
	}
	obj.Status, obj.Issuer, obj.Batch, obj.Docs = StatusValid, iss, f.Batch, c.p.Docs
	return c.adjust(iss, asIssuer, +1)
}

// applyRecall recalls a batch in one write: its certificates' status is
// derived from it (CertificateStatus).
func applyRecall(c *applyCtx, obj *Object) *Error {
	if obj.Status == StatusRecalled {
		return conflict(CodeAlreadyRevoked, "batch %s is already recalled (entry %d)", strings.TrimPrefix(obj.ID, "batch/"), obj.RecalledAt)
	}
	obj.Status, obj.RecalledAt = StatusRecalled, c.index
	return nil
}
