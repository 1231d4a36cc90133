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
		apply: revoke, needs: needsOf(Need{Roles: []string{RoleEduMinistry}, Unless: "signed by the diploma's issuer"})}
	handlers[entry.TypeVaccinationIssue] = handler{kind: KindVaccinations, object: vaccinationObjectRE, example: "vaccination/<sha-256 of the certificate id, hex>",
		creates: true, createOnly: true, docs: []string{"contents"}, apply: applyVaccinationIssue, needs: needsOf(role(RoleVaccinationIs))}
	handlers[entry.TypeVaccinationRevoke] = handler{kind: KindVaccinations, object: vaccinationObjectRE, example: "vaccination/<sha-256 of the certificate id, hex>",
		apply: revoke, needs: needsOf(Need{Roles: []string{RoleHealth}, Unless: "signed by the certificate's issuer"})}
	handlers[entry.TypeVaccinationRecall] = handler{kind: KindVaccinations, object: batchObjectRE, example: "batch/<batch id>",
		apply: applyRecall, needs: needsOf(role(RoleHealth))}
}

// issuer returns the signer identity that holds the role the entry needs,
// refusing if none does.
func issuer(c *applyCtx) (entry.PublicKey, *Error) {
	if err := c.requireNeed(0); err != nil {
		return "", err
	}
	h, err := c.holders(c.needs[0].Roles[0])
	if err != nil {
		return "", err
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
	return nil
}

// revoke is the rule of a revocation: by the issuer (or the key that
// replaced it) or by a holder of the supervising role the entry needs.
func revoke(c *applyCtx, obj *Object) *Error {
	if obj.Status != StatusValid {
		return conflict(CodeAlreadyRevoked, "%s is already %s", obj.ID, obj.Status)
	}
	if !c.signedBy(obj.Issuer) {
		if err := c.requireNeed(0); err != nil {
			return forbidden(CodeRoleNotHeld, "only the issuer %s or a holder of the role %s can revoke %s", obj.Issuer, strings.Join(c.needs[0].Roles, " or "), obj.ID)
		}
	}
	obj.Status = StatusRevoked
	return nil
}

func batchObject(b string) string { return "batch/" + b }

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
		batch = &Object{ID: batchObject(f.Batch), Status: StatusActive, Batch: f.Batch}
	}
	if batch.Status == StatusRecalled {
		return conflict(CodeBatchRecalled, "batch %s was recalled (entry %d); no certificate can be issued for it", f.Batch, batch.Latest)
	}
	batch.Certificates = append(batch.Certificates, obj.ID)
	c.put(batch)
	obj.Status, obj.Issuer, obj.Batch, obj.Docs = StatusValid, iss, f.Batch, c.p.Docs
	return nil
}

func applyRecall(c *applyCtx, obj *Object) *Error {
	if err := c.requireNeed(0); err != nil {
		return err
	}
	if obj.Status == StatusRecalled {
		return conflict(CodeAlreadyRevoked, "batch %s is already recalled", strings.TrimPrefix(obj.ID, "batch/"))
	}
	obj.Status = StatusRecalled
	for _, id := range obj.Certificates {
		cert, err := c.get(id)
		if err != nil {
			return err
		}
		if cert != nil && cert.Status == StatusValid {
			cert.Status = StatusRevoked
			c.put(cert)
		}
	}
	return nil
}
