{{/* The chart's name. */}}
{{- define "lpc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The full name of every object: the release name when it already contains the chart name. */}}
{{- define "lpc.fullname" -}}
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

{{- define "lpc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lpc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "lpc.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "lpc.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: controller
{{- end }}

{{- define "lpc.serviceAccountName" -}}
{{- default (include "lpc.fullname" .) .Values.serviceAccount.name }}
{{- end }}

{{/* The controller's RBAC rules, from the one file that holds them (files/rbac-rules.yaml). */}}
{{- define "lpc.rbacRules" -}}
{{- $rules := .Files.Get "files/rbac-rules.yaml" | fromYaml }}
{{- if or (not $rules) (hasKey $rules "Error") }}
{{- fail (printf "files/rbac-rules.yaml is missing or not YAML: %v" $rules) }}
{{- end }}
{{- toJson $rules }}
{{- end }}

{{/* The leader-election Lease: one per release, so two releases in one namespace never share it. */}}
{{- define "lpc.leaseName" -}}
{{- printf "%s-leader" (include "lpc.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "lpc.leaderElect" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicaCount) 1) }}true{{ end }}
{{- end }}

{{- define "lpc.awsRegion" -}}
{{- $region := .Values.aws.region | default (first .Values.aws.regions) }}
{{- required "set aws.regions (or aws.region)" $region }}
{{- end }}
