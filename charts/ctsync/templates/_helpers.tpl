{{/* Chart name, overridable with nameOverride. */}}
{{- define "ctsync.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every object name: the release name, plus the chart name unless the release name
already contains it. 63 characters because some names become DNS labels (Service).
*/}}
{{- define "ctsync.fullname" -}}
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

{{/*
Name of cluster-scoped objects (ClusterRole, ClusterRoleBinding): the release namespace is part
of it, so two releases of the same name in different namespaces do not fight over one object.
*/}}
{{- define "ctsync.clusterName" -}}
{{- printf "%s-%s" (include "ctsync.fullname" .) .Release.Namespace }}
{{- end }}

{{- define "ctsync.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select the operator's pods; they never change over the life of a release. */}}
{{- define "ctsync.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ctsync.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels on every object of the chart. */}}
{{- define "ctsync.labels" -}}
helm.sh/chart: {{ include "ctsync.chart" . }}
{{ include "ctsync.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ctsync
{{- end }}

{{- define "ctsync.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ctsync.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Who the Roles and ClusterRoles are granted to. */}}
{{- define "ctsync.subjects" -}}
- kind: ServiceAccount
  name: {{ include "ctsync.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end }}

{{- define "ctsync.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The namespaces the operator serves by name, as a JSON list (empty with allNamespaces). */}}
{{- define "ctsync.watchedNamespaces" -}}
{{- if .Values.watch.allNamespaces }}
{{- list | toJson }}
{{- else }}
{{- default (list .Release.Namespace) .Values.watch.namespaces | toJson }}
{{- end }}
{{- end }}

{{/* Rules the operator needs wherever it serves resources (namespaced Role or ClusterRole). */}}
{{- define "ctsync.servingRules" -}}
# Credentials Secrets named by TenantPair.spec.{source,target}.credentialsRef: read one by one, by name,
# when a pair reconciles, so neither listing nor watching every Secret of the namespace is needed.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
- apiGroups: [ctsync.io]
  resources: [tenantpairs, syncscopes, attributemappings]
  verbs: [get, list, watch, patch]
- apiGroups: [ctsync.io]
  resources: [tenantpairs/status, syncscopes/status, attributemappings/status]
  verbs: [get, patch]
- apiGroups: [""]
  resources: [events]
  verbs: [create]
{{- end }}

{{/*
Suffix of a shard's objects (Deployments, peering objects): "" with one shard, "-shard-<i>" with several.
Called with (dict "root" $ "index" i).
*/}}
{{- define "ctsync.shardSuffix" -}}
{{- if gt (int .root.Values.shards) 1 }}-shard-{{ .index }}{{ end }}
{{- end }}

{{/* The peering object names, one per shard, as a JSON list: each shard's replicas peer only with each other. */}}
{{- define "ctsync.peeringNames" -}}
{{- $names := list }}
{{- range $i := until (int .Values.shards) }}
{{- $names = append $names (printf "%s%s" $.Values.peering.name (include "ctsync.shardSuffix" (dict "root" $ "index" $i))) }}
{{- end }}
{{- $names | toJson }}
{{- end }}
