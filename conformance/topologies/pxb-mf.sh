# Two host bridges: q35's pcie.0 and an expander bridge (root bus 0x20). On
# each, a multi-function NVMe + e1000e below a root port (common ancestor =
# the root port: with the IOMMU its ACS redirect sends the pair through the
# host bridge, a same-host-bridge path that prints the "not in whitelist"
# warning); on pcie.0 a second NVMe below another root port (no common
# upstream device, same host bridge); between the two root buses, paths
# across host bridges. For the allow-list scenarios (p2pdma_test_allow=):
# pcie.0's host device is the q35 MCH 8086:29c0 (00.0), the expander's is
# its first root port 1b36:000c (20:00.0).
rp rp1 pcie.0 0x2
nvme nvme1 rp1 0x0.0 multifunction=on
dev e1000e,bus=rp1,addr=0x0.1
rp rp2 pcie.0 0x3
nvme nvme2 rp2
pxb pxb1 0x20
rp rp3 pxb1 0x0
nvme nvme3 rp3 0x0.0 multifunction=on
dev e1000e,bus=rp3,addr=0x0.1
