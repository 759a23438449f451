# The description cd-docs publishes for a repository: a jq program whose
# output is the Markdown (jq's string interpolation: \(...) is an
# expression).  Its input (cd-docs(1)):
#   .name .version .registry .image ("<registry>/<name>:<version>") .user
#   .instancetype .preference (the image's defaults, "" when none)
#   .secureboot (the catalog's "secureboot": EFI with Secure Boot and SMM)
#   .description (docs/<name>.md, "" when there is none)
# A distribution changes its text in docs/<name>.md, or replaces this
# whole program with docs/<name>.jq.

def title: split("-") | map((.[0:1] | ascii_upcase) + .[1:]) | join("-");
def flags:
  (if .instancetype != "" then "--instancetype=\(.instancetype) " else "" end)
  + (if .preference != "" then "--preference=\(.preference) " else "" end);
def firmware:
  if .secureboot then
"        features:
          smm:
            enabled: true
        firmware:
          bootloader:
            efi:
              secureBoot: true
" else "" end;

"# \(.name | title) Containerdisk Images

\(if .description != "" then .description | rtrimstr("\n")
  else "\(.name | title) cloud images for KubeVirt." end)

The default user is `\(.user)`.

## Documentation

These images are made from the distribution's own cloud images, unchanged
and kept up to date: a disk in a container
image that KubeVirt boots as a [containerDisk](https://kubevirt.io/user-guide/storage/disks_and_volumes/#containerdisk).
To get started with KubeVirt, see its [user guide](https://kubevirt.io/user-guide/)
and [virtctl](https://kubevirt.io/user-guide/user_workloads/virtctl_client_tool/).

## Examples

### A VirtualMachine that imports this containerdisk, with virtctl

```shell
virtctl create vm \(flags)--volume-import=type:registry,url:docker://\(.image),size:10Gi | kubectl create -f -
```

### A VirtualMachine without persistence, with virtctl

```shell
virtctl create vm \(flags)--volume-containerdisk=src:\(.image) | kubectl create -f -
```

### This containerdisk in a VirtualMachine definition

```yaml
apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: \(.name)
spec:
  runStrategy: Always
  template:
    spec:
      domain:
        devices:
          disks:
            - disk:
                bus: virtio
              name: containerdisk
            - disk:
                bus: virtio
              name: cloudinit
          rng: {}
\(firmware)        resources:
          requests:
            memory: 1Gi
      terminationGracePeriodSeconds: 180
      volumes:
        - containerDisk:
            image: \(.image)
          name: containerdisk
        - cloudInitNoCloud:
            userData: |-
              #cloud-config
              # The default username is: \(.user)
              ssh_authorized_keys:
                - ssh-rsa AAAA...
          name: cloudinit
```
"
