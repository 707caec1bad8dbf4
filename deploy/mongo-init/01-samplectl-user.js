// Creates samplectl's application user. The mongo image runs this once, as the root user, on the first
// start with an empty data volume (scripts in /docker-entrypoint-initdb.d), with `db` set to
// MONGO_INITDB_DATABASE. Least privilege: readWrite on the samplectl database and nothing else, so a
// leaked samplectl password cannot read other databases, create users or change the server.
// The user is defined in the samplectl database itself: URIs name it with ?authSource=samplectl.
// The password comes from a compose secret (SAMPLECTL_MONGO_PASSWORD_FILE, as the image's own *_FILE
// variables), or from SAMPLECTL_MONGO_PASSWORD where no secrets are used.
const appDb = process.env.MONGO_INITDB_DATABASE || "samplectl";
const appUser = process.env.SAMPLECTL_MONGO_USER;
const passwordFile = process.env.SAMPLECTL_MONGO_PASSWORD_FILE;
const appPassword = passwordFile
  ? require("fs").readFileSync(passwordFile, "utf8").trim()
  : process.env.SAMPLECTL_MONGO_PASSWORD;
if (!appUser || !appPassword) {
  throw new Error("SAMPLECTL_MONGO_USER and SAMPLECTL_MONGO_PASSWORD_FILE (or SAMPLECTL_MONGO_PASSWORD) must be set");
}
db.getSiblingDB(appDb).createUser({
  user: appUser,
  pwd: appPassword,
  roles: [{ role: "readWrite", db: appDb }],
});
print(`created MongoDB user ${appUser} with readWrite on ${appDb}`);
