// Command local-provisioner gives the local control plane dynamic volumes: for every pending
// PersistentVolumeClaim of the "berth-local" StorageClass (the default class that `up` creates) it
// creates a matching hostPath PersistentVolume bound to that claim, and it deletes volumes whose
// claim is gone. KWOK runs no containers, so nothing is ever written to the path; the volume only
// has to exist for claims to bind and for StatefulSet pods to be scheduled, as on a real cluster.
//
// It also expands volumes online, as a CSI driver with an external resizer does: when a bound
// claim asks for more than its volume holds, the volume's capacity grows, then the claim's.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const className = "berth-local"

func main() {
	kubeconfig := flag.String("kubeconfig", "", "path to the kubeconfig")
	interval := flag.Duration("interval", 500*time.Millisecond, "how often to look for pending claims")
	flag.Parse()
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Fatalf("kubeconfig: %v", err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for {
		if err := reconcile(ctx, client); err != nil && ctx.Err() == nil {
			log.Printf("reconcile: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(*interval):
		}
	}
}

func reconcile(ctx context.Context, client *kubernetes.Clientset) error {
	claims, err := client.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	live := map[string]bool{}
	for _, pvc := range claims.Items {
		live[string(pvc.UID)] = true
		if pvc.Status.Phase == corev1.ClaimBound && pvc.Spec.VolumeName != "" {
			if err := expand(ctx, client, &pvc); err != nil {
				log.Printf("expand %s/%s: %v", pvc.Namespace, pvc.Name, err)
			}
			continue
		}
		if pvc.Status.Phase != corev1.ClaimPending || pvc.Spec.VolumeName != "" {
			continue
		}
		if pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != className {
			continue
		}
		if err := provision(ctx, client, &pvc); err != nil {
			log.Printf("provision %s/%s: %v", pvc.Namespace, pvc.Name, err)
		}
	}
	volumes, err := client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{LabelSelector: "berth.dev/provisioned-by=local-provisioner"})
	if err != nil {
		return err
	}
	for _, pv := range volumes.Items {
		released := pv.Status.Phase == corev1.VolumeReleased || pv.Status.Phase == corev1.VolumeFailed
		orphan := pv.Spec.ClaimRef != nil && !live[string(pv.Spec.ClaimRef.UID)]
		if released || orphan {
			err := client.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				log.Printf("delete %s: %v", pv.Name, err)
			}
		}
	}
	return nil
}

func provision(ctx context.Context, client *kubernetes.Clientset, pvc *corev1.PersistentVolumeClaim) error {
	size, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		return fmt.Errorf("no storage request")
	}
	mode := corev1.PersistentVolumeFilesystem
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        "pvc-" + string(pvc.UID),
			Labels:      map[string]string{"berth.dev/provisioned-by": "local-provisioner"},
			Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": "berth.dev/local"},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   pvc.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			StorageClassName:              className,
			VolumeMode:                    &mode,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID, ResourceVersion: pvc.ResourceVersion,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/berth-local/" + string(pvc.UID)},
			},
		},
	}
	_, err := client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err == nil {
		log.Printf("provisioned %s for %s/%s (%s)", pv.Name, pvc.Namespace, pvc.Name, size.String())
	}
	return err
}

// expand grows the claim's volume, then the claim's recorded capacity, when the claim asks for
// more than it has. Volumes this provisioner did not make are left alone.
func expand(ctx context.Context, client *kubernetes.Clientset, pvc *corev1.PersistentVolumeClaim) error {
	want, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		return nil
	}
	have := pvc.Status.Capacity[corev1.ResourceStorage]
	if want.Cmp(have) <= 0 {
		return nil
	}
	pv, err := client.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if pv.Labels["berth.dev/provisioned-by"] != "local-provisioner" {
		return nil
	}
	if held := pv.Spec.Capacity[corev1.ResourceStorage]; held.Cmp(want) < 0 {
		pv.Spec.Capacity[corev1.ResourceStorage] = want
		if _, err := client.CoreV1().PersistentVolumes().Update(ctx, pv, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	if pvc.Status.Capacity == nil {
		pvc.Status.Capacity = corev1.ResourceList{}
	}
	pvc.Status.Capacity[corev1.ResourceStorage] = want
	if _, err := client.CoreV1().PersistentVolumeClaims(pvc.Namespace).UpdateStatus(ctx, pvc, metav1.UpdateOptions{}); err != nil {
		return err
	}
	log.Printf("expanded %s/%s to %s", pvc.Namespace, pvc.Name, want.String())
	return nil
}
