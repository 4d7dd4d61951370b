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

{{/* Labels of every object but the component. */}}
{{- define "lpc.baseLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "lpc.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "lpc.labels" -}}
{{ include "lpc.baseLabels" . }}
app.kubernetes.io/component: controller
{{- end }}

{{/* The ServiceAccount: the chart's own, or an existing one named in serviceAccount.name. */}}
{{- define "lpc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "lpc.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.create is false: set serviceAccount.name to an existing ServiceAccount" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image reference: [registry/]repository, then @digest when a digest is set (it wins over the tag: a digest
names exactly one image), else :tag (default: the chart's appVersion).
*/}}
{{- define "lpc.image" -}}
{{- $repository := required "set image.repository" .Values.image.repository }}
{{- with .Values.image.registry }}{{ $repository = printf "%s/%s" . $repository }}{{ end }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* The AWS arguments shared by `run` (the controller) and `doctor` (the helm test pod). */}}
{{- define "lpc.awsArgs" -}}
- --regions={{ required "set aws.regions" (join "," .Values.aws.regions) }}
{{- with .Values.aws.endpoint }}
- --aws-endpoint={{ . }}
{{- end }}
{{- end }}

{{/* The AWS environment shared by the controller and the helm test pod. */}}
{{- define "lpc.awsEnv" -}}
- name: AWS_REGION
  value: {{ include "lpc.awsRegion" . | quote }}
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

{{- define "lpc.awsRegion" -}}
{{- $region := .Values.aws.region | default (first .Values.aws.regions) }}
{{- required "set aws.regions (or aws.region)" $region }}
{{- end }}
