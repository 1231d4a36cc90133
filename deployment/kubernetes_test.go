package deployment

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// manifests decodes every document of every file in kubernetes/ into its API
// type, refusing unknown and duplicate fields.
type manifests struct {
	deployments  []*appsv1.Deployment
	statefulSets []*appsv1.StatefulSet
	services     []*corev1.Service
	configMaps   []*corev1.ConfigMap
	secrets      []*corev1.Secret
	pdbs         []*policyv1.PodDisruptionBudget
	files        []string
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

func loadManifests(t *testing.T) manifests {
	t.Helper()
	paths, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	var m manifests
	for _, p := range paths {
		if filepath.Base(p) == "kustomization.yaml" {
			continue
		}
		m.files = append(m.files, filepath.Base(p))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range docSeparator.Split(string(b), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			var tm v1.TypeMeta
			if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
				t.Fatalf("%s document %d: %v", p, i, err)
			}
			var obj runtime.Object
			switch tm.APIVersion + " " + tm.Kind {
			case "apps/v1 Deployment":
				o := &appsv1.Deployment{}
				m.deployments, obj = append(m.deployments, o), o
			case "apps/v1 StatefulSet":
				o := &appsv1.StatefulSet{}
				m.statefulSets, obj = append(m.statefulSets, o), o
			case "v1 Service":
				o := &corev1.Service{}
				m.services, obj = append(m.services, o), o
			case "v1 ConfigMap":
				o := &corev1.ConfigMap{}
				m.configMaps, obj = append(m.configMaps, o), o
			case "v1 Secret":
				o := &corev1.Secret{}
				m.secrets, obj = append(m.secrets, o), o
			case "policy/v1 PodDisruptionBudget":
				o := &policyv1.PodDisruptionBudget{}
				m.pdbs, obj = append(m.pdbs, o), o
			case "v1 Namespace":
				obj = &corev1.Namespace{}
			default:
				t.Fatalf("%s document %d: unexpected %s %s", p, i, tm.APIVersion, tm.Kind)
			}
			if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
				t.Errorf("%s document %d (%s): %v", p, i, tm.Kind, err)
			}
		}
	}
	return m
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func configMaps(t *testing.T) []*corev1.ConfigMap { return loadManifests(t).configMaps }

// workload is a Deployment or a StatefulSet.
type workload struct {
	name     string
	selector *v1.LabelSelector
	pod      corev1.PodTemplateSpec
	claims   []string // a StatefulSet's volume claim templates
}

func (m manifests) workloads() []workload {
	var ws []workload
	for _, d := range m.deployments {
		ws = append(ws, workload{d.Name, d.Spec.Selector, d.Spec.Template, nil})
	}
	for _, s := range m.statefulSets {
		var claims []string
		for _, c := range s.Spec.VolumeClaimTemplates {
			claims = append(claims, c.Name)
		}
		ws = append(ws, workload{s.Name, s.Spec.Selector, s.Spec.Template, claims})
	}
	return ws
}

func TestKubernetesManifestsDecodeStrictly(t *testing.T) {
	m := loadManifests(t)
	if len(m.deployments) != 1 || len(m.statefulSets) != 1 || len(m.pdbs) != 2 {
		t.Errorf("want the front-end Deployment, the witness StatefulSet and a PodDisruptionBudget for each; got %d, %d, %d",
			len(m.deployments), len(m.statefulSets), len(m.pdbs))
	}
	// The decoder must refuse what it does not know, or this test proves nothing.
	bad := []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replica: 2}\n")
	if err := yaml.UnmarshalStrict(bad, &appsv1.Deployment{}); err == nil {
		t.Error("UnmarshalStrict accepted an unknown field")
	}
}

func TestKubernetesPodSecurity(t *testing.T) {
	m := loadManifests(t)
	for _, w := range m.workloads() {
		spec := w.pod.Spec
		psc := spec.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
			t.Errorf("%s: the pod must run as a non-root user", w.name)
		}
		if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: seccomp profile RuntimeDefault missing", w.name)
		}
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			t.Errorf("%s: the service account token must not be mounted", w.name)
		}
		for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
			sc := c.SecurityContext
			switch {
			case sc == nil:
				t.Errorf("%s/%s: no securityContext", w.name, c.Name)
				continue
			case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
				t.Errorf("%s/%s: runAsNonRoot is not set", w.name, c.Name)
			case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
				t.Errorf("%s/%s: the root filesystem is writable", w.name, c.Name)
			case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
				t.Errorf("%s/%s: privilege escalation is allowed", w.name, c.Name)
			case sc.Privileged != nil && *sc.Privileged:
				t.Errorf("%s/%s: privileged", w.name, c.Name)
			case sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0:
				t.Errorf("%s/%s: capabilities must drop ALL and add none", w.name, c.Name)
			}
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if _, ok := c.Resources.Requests[r]; !ok {
					t.Errorf("%s/%s: no %s request", w.name, c.Name, r)
				}
				if _, ok := c.Resources.Limits[r]; !ok {
					t.Errorf("%s/%s: no %s limit", w.name, c.Name, r)
				}
			}
		}
		for _, v := range spec.Volumes {
			if v.HostPath != nil {
				t.Errorf("%s: hostPath volume %s", w.name, v.Name)
			}
			if s := v.Secret; s != nil && (s.DefaultMode == nil || *s.DefaultMode&0o037 != 0) {
				t.Errorf("%s: Secret volume %s must not be writable by the group or readable by others", w.name, v.Name)
			}
		}
	}
}

func TestKubernetesProbes(t *testing.T) {
	m := loadManifests(t)
	for _, d := range m.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
				t.Errorf("%s/%s: liveness probe must GET /healthz", d.Name, c.Name)
			}
			if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Errorf("%s/%s: readiness probe must GET /readyz", d.Name, c.Name)
			}
			if c.StartupProbe == nil {
				t.Errorf("%s/%s: no startup probe: a replaying log would be killed by the liveness probe", d.Name, c.Name)
			}
		}
	}
	// tabwitness serves no health endpoint: its probes check the port.
	for _, s := range m.statefulSets {
		for _, c := range s.Spec.Template.Spec.Containers {
			if c.LivenessProbe == nil || c.ReadinessProbe == nil {
				t.Errorf("%s/%s: liveness and readiness probes required", s.Name, c.Name)
			}
		}
		if len(s.Spec.VolumeClaimTemplates) == 0 {
			t.Errorf("%s: a witness needs its own persistent volume", s.Name)
		}
	}
}

// TestKubernetesReferences checks that selectors select, and that every
// ConfigMap, Secret, port and file a pod refers to exists.
func TestKubernetesReferences(t *testing.T) {
	m := loadManifests(t)
	cms := map[string]*corev1.ConfigMap{}
	for _, c := range m.configMaps {
		cms[c.Name] = c
	}
	secrets := map[string]*corev1.Secret{}
	for _, s := range m.secrets {
		secrets[s.Name] = s
	}
	ws := m.workloads()
	selects := func(sel *v1.LabelSelector) []string {
		s, err := v1.LabelSelectorAsSelector(sel)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, w := range ws {
			if s.Matches(labels.Set(w.pod.Labels)) {
				names = append(names, w.name)
			}
		}
		return names
	}
	for _, w := range ws {
		if got := selects(w.selector); len(got) != 1 || got[0] != w.name {
			t.Errorf("%s: its selector matches %v", w.name, got)
		}
		for _, v := range w.pod.Spec.Volumes {
			if v.ConfigMap != nil && cms[v.ConfigMap.Name] == nil {
				t.Errorf("%s: volume %s: no ConfigMap %s", w.name, v.Name, v.ConfigMap.Name)
			}
			if v.Secret != nil && secrets[v.Secret.SecretName] == nil {
				t.Errorf("%s: volume %s: no Secret %s (not even in secrets.example.yaml)", w.name, v.Name, v.Secret.SecretName)
			}
		}
		for _, c := range slices.Concat(w.pod.Spec.InitContainers, w.pod.Spec.Containers) {
			for _, vm := range c.VolumeMounts {
				if !slices.ContainsFunc(w.pod.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == vm.Name }) && !slices.Contains(w.claims, vm.Name) {
					t.Errorf("%s/%s: mounts unknown volume %s", w.name, c.Name, vm.Name)
				}
			}
		}
	}
	for _, s := range m.services {
		if got := selects(&v1.LabelSelector{MatchLabels: s.Spec.Selector}); len(got) != 1 {
			t.Errorf("Service %s selects %v", s.Name, got)
		}
	}
	for _, p := range m.pdbs {
		if got := selects(p.Spec.Selector); len(got) != 1 {
			t.Errorf("PodDisruptionBudget %s selects %v", p.Name, got)
		}
	}
	// Every file the front ends' configuration names is mounted.
	cfg := cms["tabularium-config"]
	if cfg == nil {
		t.Fatal("no ConfigMap tabularium-config")
	}
	for _, path := range regexp.MustCompile(`(?m)(?:key_file|mysql_dsn_file|credentials_file|witness_policy): (\S+)`).FindAllStringSubmatch(cfg.Data["tabularium.yaml"], -1) {
		dir, file := filepath.Split(path[1])
		switch dir {
		case "/etc/tabularium/":
			if _, ok := cfg.Data[file]; !ok {
				t.Errorf("tabularium.yaml names %s, which tabularium-config does not hold", path[1])
			}
		case "/run/tabularium/":
			if _, ok := secrets["tabularium-secrets"].StringData[file]; !ok {
				t.Errorf("tabularium.yaml names %s, which tabularium-secrets does not hold", path[1])
			}
		default:
			t.Errorf("tabularium.yaml names %s, in no mounted folder", path[1])
		}
	}
	// Each witness pod finds its own key.
	for _, s := range m.statefulSets {
		for i := range *s.Spec.Replicas {
			key := s.Name + "-" + string(rune('0'+i)) + ".key"
			if _, ok := secrets["tabwitness-keys"].StringData[key]; !ok {
				t.Errorf("%s: no %s in tabwitness-keys", s.Name, key)
			}
		}
	}
}

// TestKubernetesQuorumSurvivesDisruption: the witnesses' budget keeps the
// publication quorum of the policies.
func TestKubernetesQuorumSurvivesDisruption(t *testing.T) {
	m := loadManifests(t)
	quorum := 0
	for _, cm := range m.configMaps {
		for key, text := range cm.Data {
			if strings.HasSuffix(key, ".policy") {
				for _, l := range strings.Split(text, "\n") {
					if f := strings.Fields(l); len(f) > 2 && f[0] == "group" {
						quorum = max(quorum, int(f[2][0]-'0'))
					}
				}
			}
		}
	}
	for _, p := range m.pdbs {
		if p.Name == "tabwitness" && (p.Spec.MinAvailable == nil || p.Spec.MinAvailable.IntValue() < quorum) {
			t.Errorf("tabwitness PodDisruptionBudget allows fewer than %d witnesses", quorum)
		}
	}
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	b, err := os.ReadFile("kubernetes/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Namespace  string   `json:"namespace"`
		Resources  []string `json:"resources"`
	}
	if err := yaml.UnmarshalStrict(b, &k); err != nil {
		t.Fatal(err)
	}
	m := loadManifests(t)
	for _, f := range m.files {
		if listed := slices.Contains(k.Resources, f); listed == (f == "secrets.example.yaml") {
			t.Errorf("kustomization.yaml: %s listed: %v", f, listed)
		}
	}
	for _, r := range k.Resources {
		if _, err := os.Stat(filepath.Join("kubernetes", r)); err != nil {
			t.Error(err)
		}
	}
	// No key material in any manifest.
	for _, f := range m.files {
		b, _ := os.ReadFile(filepath.Join("kubernetes", f))
		if bytes.Contains(b, []byte("PRIVATE+KEY")) || bytes.Contains(b, []byte("BEGIN PRIVATE")) {
			t.Errorf("%s holds a private key", f)
		}
	}
}
