// node tests/lib/k8s-validate.js NPM_PREFIX MANIFEST: validate every document
// of a multi-document manifest with kubernetes-models (the class of its
// apiVersion and kind); exit 1 naming the document and the bad path.
const [prefix, file] = process.argv.slice(2);
const req = (m) => require(`${prefix}/node_modules/${m}`);
const yaml = req("js-yaml");
const fs = require("fs");
const classes = {
  "v1/ConfigMap": () => req("kubernetes-models/v1/ConfigMap").ConfigMap,
  "v1/PersistentVolumeClaim": () => req("kubernetes-models/v1/PersistentVolumeClaim").PersistentVolumeClaim,
  "batch/v1/Job": () => req("kubernetes-models/batch/v1/Job").Job,
};
let n = 0;
for (const doc of yaml.loadAll(fs.readFileSync(file, "utf8"))) {
  if (!doc) continue;
  const key = `${doc.apiVersion}/${doc.kind}`;
  const make = classes[key];
  if (!make) {
    console.error(`${file}: document ${n}: no model for ${key}`);
    process.exit(1);
  }
  try {
    new (make())(doc).validate();
  } catch (e) {
    console.error(`${file}: ${key} ${doc.metadata && doc.metadata.name}: ${e.message}`);
    process.exit(1);
  }
  console.log(`valid: ${key} ${doc.metadata.name}`);
  n++;
}
