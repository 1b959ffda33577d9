# Multi-function endpoint (NVMe fn0 + e1000e fn1) below one root port (common
# ancestor = the root port, which has an ACS capability), plus a second NVMe
# under another root port.
rp rp1 pcie.0 0x2
nvme nvme1 rp1 0x0.0 multifunction=on
dev e1000e,bus=rp1,addr=0x0.1
rp rp2 pcie.0 0x3
nvme nvme2 rp2
