{{/* Names, labels and the checks that refuse impossible values. */}}

{{- define "ats-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ats-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "ats-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ats-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ats-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ats-operator.labels" -}}
helm.sh/chart: {{ include "ats-operator.chart" . }}
{{ include "ats-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "ats-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ats-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ats-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The ledger's volume claim, when it lives on one. */}}
{{- define "ats-operator.ledgerClaim" -}}
{{- $p := .Values.ledger.sqlite.persistence }}
{{- if $p.existingClaim }}{{ $p.existingClaim }}{{ else }}{{ include "ats-operator.fullname" . }}-ledger{{ end }}
{{- end }}

{{/* RUST_LOG: a bare level keeps the dependencies at warn, as the binary's default does. */}}
{{- define "ats-operator.rustLog" -}}
{{- $l := .Values.log.level }}
{{- if has $l (list "error" "warn" "info" "debug" "trace") }}
{{- printf "%s,kube=warn,hyper=warn" $l }}
{{- else }}
{{- $l }}
{{- end }}
{{- end }}

{{/*
Fails the render on values that cannot work, with what to change.
*/}}
{{- define "ats-operator.validate" -}}
{{- $v := .Values }}
{{- $pods := int $v.replicaCount }}
{{- range $v.shards }}{{ $pods = add $pods (int (default 1 .replicaCount)) }}{{ end }}
{{- if and (not $v.leaderElect) (gt (int $v.replicaCount) 1) }}
{{- fail (printf "replicaCount %d with leaderElect=false: replicas would sync the same tenants and write twice; set leaderElect=true" (int $v.replicaCount)) }}
{{- end }}
{{- if ge (int $v.leaderElectionRenewDeadline) (int $v.leaderElectionLeaseDuration) }}
{{- fail (printf "leaderElectionRenewDeadline (%d) must be shorter than leaderElectionLeaseDuration (%d)" (int $v.leaderElectionRenewDeadline) (int $v.leaderElectionLeaseDuration)) }}
{{- end }}
{{- if and $v.scopedRBAC (not $v.scopedNamespace) }}
{{- fail "scopedRBAC=true needs scopedNamespace: the namespace the operator watches and its Role lives in" }}
{{- end }}
{{- $seen := dict }}
{{- range $v.shards }}
{{- if eq .name "default" }}
{{- fail "shards: the name \"default\" belongs to the main Deployment (it owns the unlabelled resources)" }}
{{- end }}
{{- if hasKey $seen .name }}
{{- fail (printf "shards: %q is listed twice" .name) }}
{{- end }}
{{- $_ := set $seen .name true }}
{{- end }}
{{- if eq $v.ledger.backend "postgres" }}
{{- if not $v.ledger.postgres.existingSecret }}
{{- fail "ledger.backend=postgres needs ledger.postgres.existingSecret: a Secret in the release namespace whose key ledger.postgres.existingSecretKey holds the connection string (it is never put in values)" }}
{{- end }}
{{- else if eq $v.ledger.backend "sqlite" }}
{{- $p := $v.ledger.sqlite.persistence }}
{{- if and $p.enabled (gt $pods 1) (not (has "ReadWriteMany" $p.accessModes)) }}
{{- fail (printf "a SQLite ledger on a %s volume serves one Pod, but replicaCount and shards ask for %d: use ledger.backend=postgres (shared by replicas and shards), or replicaCount=1 and no shards" (join "," $p.accessModes) $pods) }}
{{- end }}
{{- end }}
{{- if and $v.serviceMonitor.enabled (not $v.metrics.service.enabled) }}
{{- fail "serviceMonitor.enabled needs metrics.service.enabled: the ServiceMonitor scrapes through the Service" }}
{{- end }}
{{- $pdb := $v.podDisruptionBudget }}
{{- if and $pdb.enabled (not (hasKey $pdb "maxUnavailable")) (not (kindIs "string" $pdb.minAvailable)) }}
{{- range include "ats-operator.instances" . | fromJsonArray }}
{{- if ge (int $pdb.minAvailable) (int .replicas) }}
{{- fail (printf "podDisruptionBudget.minAvailable (%d) with %d replica(s) in Deployment %s would block every node drain: raise its replicaCount or use podDisruptionBudget.maxUnavailable" (int $pdb.minAvailable) (int .replicas) .name) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The Deployments: the main one, and one per listed shard. Each item: name,
shard ("" when unsharded), replicas, component labels.
*/}}
{{- define "ats-operator.instances" -}}
{{- $full := include "ats-operator.fullname" . }}
{{- $list := list }}
{{- $main := dict "name" $full "shard" "" "replicas" (int .Values.replicaCount) }}
{{- if .Values.shards }}{{ $_ := set $main "shard" "default" }}{{ end }}
{{- $list = append $list $main }}
{{- range .Values.shards }}
{{- $list = append $list (dict "name" (printf "%s-shard-%s" $full .name | trunc 63 | trimSuffix "-") "shard" .name "replicas" (int (default 1 .replicaCount))) }}
{{- end }}
{{- toJson $list }}
{{- end }}

{{/* Selector labels of one Deployment's Pods ($ctx: root, $inst: instance). */}}
{{- define "ats-operator.podSelector" -}}
{{ include "ats-operator.selectorLabels" .root }}
app.kubernetes.io/component: controller
ats.dev/shard: {{ default "default" .inst.shard }}
{{- end }}

{{/* The operator's flags for one Deployment. */}}
{{- define "ats-operator.args" -}}
{{- $v := .root.Values }}
- run
- --log-format={{ $v.log.format }}
- --metrics-addr=0.0.0.0:{{ $v.metrics.listen.port }}
- --max-concurrent-syncs={{ int $v.concurrent }}
- --leader-elect={{ $v.leaderElect }}
{{- if $v.leaderElect }}
- --lease-name={{ $v.leaderElectionID }}
- --lease-duration={{ int $v.leaderElectionLeaseDuration }}
- --renew-deadline={{ int $v.leaderElectionRenewDeadline }}
{{- end }}
{{- if $v.scopedNamespace }}
- --namespace={{ $v.scopedNamespace }}
{{- end }}
{{- if .inst.shard }}
- --shard={{ .inst.shard }}
{{- end }}
- --ledger-backend={{ $v.ledger.backend }}
{{- if eq $v.ledger.backend "sqlite" }}
- --ledger-path={{ $v.ledger.sqlite.path }}
{{- end }}
- --ledger-retention-days={{ int $v.ledger.retentionDays }}
{{- if $v.allowPrivateEndpoints }}
- --allow-private-endpoints
{{- end }}
{{- if kindIs "string" $v.customEndpointNamespaces }}
- --custom-endpoint-namespaces={{ $v.customEndpointNamespaces }}
{{- end }}
{{- with $v.resumeDownloadHosts }}
- --resume-download-hosts={{ join "," . }}
{{- end }}
{{- with $v.scoring.semantic.modelDir }}
- --model-dir={{ . }}
- --semantic-engine={{ $v.scoring.semantic.engine | default "static" }}
{{- end }}
{{- range $k, $val := $v.extraArgs }}
{{- if or (eq (toString $val) "") (kindIs "invalid" $val) }}
- --{{ $k }}
{{- else }}
- --{{ $k }}={{ $val }}
{{- end }}
{{- end }}
{{- end }}
